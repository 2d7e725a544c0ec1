package bench

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

const pgbenchOutput = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/houqin-bench-1/append.sql
scaling factor: 1
query mode: prepared
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 8 s
number of transactions actually processed: 61234
number of failed transactions: 0 (0.000%)
latency average = 2.090 ms
initial connection time = 11.532 ms
tps = 7654.321098 (without initial connection time)
`

func TestParsePgbench(t *testing.T) {
	r, err := parsePgbench(pgbenchOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.TPS != 7654.321098 || r.LatencyMs != 2.090 || r.Processed != 61234 || r.Failed != 0 {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := parsePgbench(strings.Replace(pgbenchOutput, "failed transactions: 0", "failed transactions: 3", 1)); err == nil {
		t.Fatal("failed transactions not reported")
	}
	if _, err := parsePgbench("pgbench: error: connection refused"); err == nil {
		t.Fatal("output without tps accepted")
	}
}

// pgbench turns every ":name" into a parameter, even inside quotes: the script must hold no
// colon but those of its own variables.
func TestPgbenchScriptHasOnlyItsVariables(t *testing.T) {
	c, err := newCorpus(1)
	if err != nil {
		t.Fatal(err)
	}
	script := pgbenchScript(c.events[0])
	vars := regexp.MustCompile(`:[A-Za-z0-9_]+`).FindAllString(script, -1)
	if len(vars) == 0 {
		t.Fatal("script uses no variables")
	}
	for _, v := range vars {
		if v != ":client_id" && v != ":r" {
			t.Errorf("script holds %q, which pgbench would take for a variable", v)
		}
	}
	for _, table := range []string{"requests", "unique_keys", "events", "outbox"} {
		if !strings.Contains(script, "INSERT INTO "+table+" ") {
			t.Errorf("script does not write %s", table)
		}
	}
}

func TestLit(t *testing.T) {
	if got := lit("qs-shiyan-xx"); got != "'qs-shiyan-xx'" {
		t.Errorf("plain literal: %s", got)
	}
	if got := lit("asset:x'y"); strings.ContainsAny(got[1:], ":'") && !strings.HasPrefix(got, "convert_from(decode('") {
		t.Errorf("literal with a colon or quote not hex-encoded: %s", got)
	}
}

func TestPercentileMs(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if p := percentileMs(lat, 0.50); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentileMs(lat, 0.99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentileMs(lat[:1], 0.99); p != 1 {
		t.Errorf("p99 of one = %v", p)
	}
	if p := percentileMs(nil, 0.5); p != 0 {
		t.Errorf("p50 of none = %v", p)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 1234567.8: "1,234,568"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %s, want %s", v, got, want)
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	if w := displayWidth("指标 / metric"); w != 13 {
		t.Errorf("width %d", w)
	}
}

func TestTableMarksTargets(t *testing.T) {
	r := newReport(Config{Duration: time.Second, Events: 10, Clients: []int{16}})
	r.addCommands(PgbenchResult{TPS: 1000}, CommandPoint{Clients: 16, PerSec: 600, P50Ms: 1, P99Ms: 2})
	r.addRelay(Rate{PerSec: 100}, Rate{PerSec: 400})
	r.addProjection(ProjectionResult{Projection: Rate{PerSec: 40000}, RawInsert: Rate{PerSec: 60000},
		RawFetch: Rate{PerSec: 100000}, Rebuild: Rate{PerSec: 30000}})
	pass := map[string]bool{}
	for _, row := range r.Rows {
		if row.Pass != nil {
			pass[row.Key] = *row.Pass
		}
	}
	want := map[string]bool{"commands_c16": true, "relay": false, "projection_vs_insert": true, "projection_rate": true}
	for k, v := range want {
		if pass[k] != v {
			t.Errorf("%s pass = %v, want %v", k, pass[k], v)
		}
	}
	var b bytes.Buffer
	r.WriteTable(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// Title, header, rule, then one line per row; every row starts its columns where the
	// header does.
	if len(lines) != 3+len(r.Rows) {
		t.Fatalf("table:\n%s", b.String())
	}
	col := strings.Index(lines[1], "本系统")
	for _, l := range lines[3:] {
		if displayWidth(l[:strings.Index(l, "/s")]) < displayWidth(lines[1][:col]) {
			t.Errorf("misaligned row %q", l)
		}
	}
}
