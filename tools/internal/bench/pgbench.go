package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/pgserver"
)

// rawAppend is the machine's limit for a command's write: pgbench running by hand, against the
// event store's own schema, the rows one RegisterAsset commits.
type rawAppend struct {
	srv     *pgserver.Server
	pool    *pgxpool.Pool
	db      string
	script  string
	pgbench string
}

const rawAppendDB = "raw_append"

func newRawAppend(ctx context.Context, e *env, sample event.Event) (*rawAppend, error) {
	return newRawAppendIn(ctx, e, sample, rawAppendDB)
}

// newRawAppendIn is newRawAppend in a database of its own (each phase creates its own).
func newRawAppendIn(ctx context.Context, e *env, sample event.Event, db string) (*rawAppend, error) {
	pool, err := e.database(ctx, db, 2)
	if err != nil {
		return nil, err
	}
	if err := eventstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	bin, err := pgbenchPath(e.pg.Bin())
	if err != nil {
		pool.Close()
		return nil, err
	}
	script := filepath.Join(e.dir, db+".sql")
	if err := os.WriteFile(script, []byte(pgbenchScript(sample)), 0o644); err != nil {
		pool.Close()
		return nil, err
	}
	return &rawAppend{srv: e.pg, pool: pool, db: db, script: script, pgbench: bin}, nil
}

// pgbenchPath finds pgbench beside the server binaries, so client and server versions match.
func pgbenchPath(bin string) (string, error) {
	p := filepath.Join(bin, "pgbench")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("bench: pgbench not found beside the server: %w", err)
	}
	return p, nil
}

func (r *rawAppend) close() { r.pool.Close() }

// pgbenchScript writes what eventstore.Append writes for RegisterAsset — the request id, the
// tag's unique key, the event and its outbox row — in one pipelined transaction, one round
// trip, as Append sends it. Every transaction is a new stream, like a new asset. The event id
// comes from gen_random_uuid(), so the event and its outbox row are one statement.
func pgbenchScript(sample event.Event) string {
	const n = `CAST(:client_id AS text) || '-' || CAST(:r AS text)`
	outcome := fmt.Sprintf(`{"stream_id":%q,"version":1,"event_ids":[%q]}`, sample.StreamID, sample.ID)
	stream := lit("asset:pgb-") + " || " + n
	var b strings.Builder
	b.WriteString("\\set r random(1, 9223372036854775806)\n\\startpipeline\nBEGIN;\n")
	fmt.Fprintf(&b, "INSERT INTO requests (school_id, request_id, fingerprint, outcome) VALUES (%s, 'pgbench-' || %s, sha256(CAST(%s AS bytea)), CAST(%s AS jsonb));\n",
		lit(sample.SchoolID), n, n, lit(outcome))
	fmt.Fprintf(&b, "INSERT INTO unique_keys (scope, key, stream_id) VALUES ('asset_tag', %s || %s, %s);\n",
		lit(sample.SchoolID+"/PGB-"), n, stream)
	fmt.Fprintf(&b, "WITH e AS (INSERT INTO events (event_id, stream_id, stream_type, version, school_id, event_type, payload, "+
		"occurred_at, recorded_at, actor, correlation_id, causation_id, trace_parent, policy_version, prev_hash, hash) "+
		"VALUES (gen_random_uuid(), %s, 'asset', 1, %s, %s, decode('%x', 'hex'), now(), now(), %s, "+
		"'pgbench-' || %s, '', %s, %s, decode('%x', 'hex'), sha256(CAST('e' || %s AS bytea))) RETURNING event_id) "+
		"INSERT INTO outbox (event_id, subject) SELECT event_id, %s FROM e;\n",
		stream, lit(sample.SchoolID), lit(sample.Type), sample.Payload, lit(sample.Actor), n, lit(sample.TraceParent),
		lit(sample.PolicyVersion), event.GenesisHash, n, lit(subject(assetsService, sample)))
	b.WriteString("END;\n\\endpipeline\n")
	return b.String()
}

// lit is s as an SQL literal. pgbench turns every ":name" in a command into a parameter, even
// inside quotes, so text holding a colon is spelled in hex.
func lit(s string) string {
	if strings.ContainsAny(s, ":'\\") {
		return fmt.Sprintf("convert_from(decode('%x', 'hex'), 'UTF8')", s)
	}
	return "'" + s + "'"
}

// PgbenchResult is what one pgbench run reported.
type PgbenchResult struct {
	TPS       float64 `json:"tps"`
	LatencyMs float64 `json:"latency_avg_ms"`
	Processed int64   `json:"transactions"`
	Failed    int64   `json:"failed"`
}

// run runs pgbench with clients connections for d.
func (r *rawAppend) run(ctx context.Context, clients int, d time.Duration) (PgbenchResult, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := []string{"-n", "-M", "prepared", "-f", r.script, "-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(2, clients)), "-T", strconv.Itoa(secs),
		"-h", "127.0.0.1", "-p", strconv.Itoa(r.srv.Port()), "-U", pgserver.User, r.db}
	cmd := exec.CommandContext(ctx, r.pgbench, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "LC_ALL=C")
	if err := cmd.Run(); err != nil {
		return PgbenchResult{}, fmt.Errorf("bench: pgbench -c %d: %w: %s", clients, err, tail(out.String(), 800))
	}
	res, err := parsePgbench(out.String())
	if err != nil {
		return res, fmt.Errorf("bench: pgbench -c %d: %w: %s", clients, err, tail(out.String(), 800))
	}
	return res, nil
}

var (
	reTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	reLatency   = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
	reProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)`)
	reFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+)`)
)

// parsePgbench reads the summary pgbench prints at the end of a run.
func parsePgbench(out string) (PgbenchResult, error) {
	var r PgbenchResult
	m := reTPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no tps line in pgbench output")
	}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reLatency.FindStringSubmatch(out); m != nil {
		r.LatencyMs, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reProcessed.FindStringSubmatch(out); m != nil {
		r.Processed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reFailed.FindStringSubmatch(out); m != nil {
		r.Failed, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if r.Failed > 0 {
		return r, fmt.Errorf("%d failed transactions", r.Failed)
	}
	return r, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
