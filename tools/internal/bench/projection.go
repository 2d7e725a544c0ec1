package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/runtime"
	"houqin.dev/projector/ledger"
)

// ProjectionResult is the projection measurement with its baselines.
type ProjectionResult struct {
	Projection Rate `json:"projection"`
	RawFetch   Rate `json:"raw_fetch_ack"`
	RawInsert  Rate `json:"raw_batch_insert"`
	Rebuild    Rate `json:"rebuild"`
}

const (
	projectorDB = "projector_bench"
	// batch is the projector's default events per transaction (projector Config.Batch).
	batch = 1000
	// rawSchema holds the baseline's copy of the ledger tables.
	rawSchema = "raw_ledger"
)

// measureProjection times the ledger projection over HOUQIN_ASSETS holding the corpus, the
// raw consumer and raw insert baselines over the same events, and a rebuild.
func measureProjection(ctx context.Context, e *env, c *corpus, log *slog.Logger) (ProjectionResult, error) {
	var res ProjectionResult
	n := len(c.events)
	nc, js, err := e.connect("bench-projector")
	if err != nil {
		return res, err
	}
	defer nc.Close()
	if err := ensureCorpusStream(ctx, js, c); err != nil {
		return res, err
	}
	pool, err := e.database(ctx, projectorDB, 16)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	if err := projection.Migrate(ctx, pool); err != nil {
		return res, err
	}
	if err := projection.Setup(ctx, pool, ledger.Projection{}, assetsService); err != nil {
		return res, err
	}
	steps := []struct {
		out *Rate
		run func() (time.Duration, error)
	}{
		{&res.RawFetch, func() (time.Duration, error) { return rawFetch(ctx, js, n) }},
		{&res.RawInsert, func() (time.Duration, error) { return rawInsert(ctx, e.pg.URL(projectorDB), pool, c) }},
		{&res.Projection, func() (time.Duration, error) { return runProjection(ctx, pool, js, ledger.Projection{}, n, log) }},
		{&res.Rebuild, func() (time.Duration, error) { return rebuild(ctx, pool, js, n, log) }},
	}
	for _, s := range steps {
		if err := checkpoint(ctx, pool); err != nil {
			return res, err
		}
		d, err := s.run()
		if err != nil {
			return res, err
		}
		*s.out = newRate(n, d)
	}
	return res, nil
}

// ensureCorpusStream makes HOUQIN_ASSETS hold exactly the corpus. After the relay measurement
// it already does; run alone, the projection measurement publishes it first.
func ensureCorpusStream(ctx context.Context, js jetstream.JetStream, c *corpus) error {
	if expectMessages(ctx, js, assetsService, len(c.events)) == nil {
		return nil
	}
	if err := freshStream(ctx, js, assetsService); err != nil {
		return err
	}
	pub, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(4000))
	if err != nil {
		return err
	}
	if _, err := publishAll(ctx, pub, assetsService, c.events); err != nil {
		return err
	}
	return expectMessages(ctx, js, assetsService, len(c.events))
}

// rawFetch is the bus's limit for a projection: a durable pull consumer configured as the
// runner configures its own, reading batches the way the runner does and acknowledging the
// last message of each, with nothing done in between.
func rawFetch(ctx context.Context, js jetstream.JetStream, n int) (time.Duration, error) {
	stream, err := js.Stream(ctx, bus.StreamName(assetsService))
	if err != nil {
		return 0, err
	}
	const name = "bench-raw-fetch"
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckAllPolicy,
		AckWait: 30 * time.Second, MaxDeliver: -1, MaxAckPending: 4 * batch, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return 0, err
	}
	defer stream.DeleteConsumer(context.WithoutCancel(ctx), name) //nolint:errcheck // clean-up only
	start := time.Now()
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * batch))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	msgs := make([]jetstream.Msg, 0, batch)
	for got := 0; got < n; got += len(msgs) {
		if msgs, err = fetchBatch(ctx, it, msgs[:0]); err != nil {
			return 0, err
		}
		if err := msgs[len(msgs)-1].Ack(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// fetchBatch mirrors projection's nextBatch: block for one message, then take what else is
// buffered, up to a batch.
func fetchBatch(ctx context.Context, it jetstream.MessagesContext, msgs []jetstream.Msg) ([]jetstream.Msg, error) {
	m, err := it.Next(jetstream.NextContext(ctx))
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, m)
	for len(msgs) < batch {
		m, err := it.Next(jetstream.NextMaxWait(time.Millisecond))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// insertSQL is the ledger's bulk insert of registrations, verbatim but for the schema.
const insertSQL = `INSERT INTO %s.assets (asset_id, event_id, school_id, tag, name, category, location,
			department, custodian, unit_price_fen, quantity, value_fen, version, acquired_on, fixed_asset, registered_at)
			SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::date[],
			$15::boolean[], $16::timestamptz[])
			ON CONFLICT (asset_id) DO NOTHING`

// rawInsert is PostgreSQL's limit for a projection: the same rows into a table made by the
// ledger's own Setup, with the ledger's statement, batch by batch, each its own transaction,
// on one connection. The arrays are built before the clock starts.
func rawInsert(ctx context.Context, url string, pool *pgxpool.Pool, c *corpus) (time.Duration, error) {
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+rawSchema); err != nil {
			return err
		}
		return ledger.Projection{}.Setup(ctx, tx, rawSchema)
	}); err != nil {
		return 0, err
	}
	batches, err := ledgerBatches(c)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stmt := fmt.Sprintf(insertSQL, rawSchema)
	start := time.Now()
	for _, b := range batches {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt, b...)
			return err
		}); err != nil {
			return 0, fmt.Errorf("bench: raw insert: %w", err)
		}
	}
	return time.Since(start), nil
}

// ledgerBatches turns the corpus into the statement's 16 column arrays, batch by batch.
func ledgerBatches(c *corpus) ([][]any, error) {
	var out [][]any
	for lo := 0; lo < len(c.events); lo += batch {
		hi := min(lo+batch, len(c.events))
		k := hi - lo
		// [16]byte, not uuid.UUID: pgx encodes it directly, where uuid.UUID goes through a
		// failed plan and driver.Valuer's string for every element.
		ids, evs := make([][16]byte, k), make([][16]byte, k)
		texts := make([][]string, 7) // school, tag, name, category, location, department, custodian
		for i := range texts {
			texts[i] = make([]string, k)
		}
		prices, qtys, values, versions := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
		acquired, registered, fixed := make([]time.Time, k), make([]time.Time, k), make([]bool, k)
		for i := range k {
			e, m := c.events[lo+i], c.payloads[lo+i]
			id, err := uuid.Parse(m.AssetId)
			if err != nil {
				return nil, err
			}
			if acquired[i], err = time.Parse(domain.DateLayout, m.AcquiredOn); err != nil {
				return nil, err
			}
			ids[i], evs[i] = id, e.ID
			for j, v := range []string{e.SchoolID, m.Tag, m.Name, m.Category, m.Location, m.Department, m.Custodian} {
				texts[j][i] = v
			}
			prices[i], qtys[i], values[i], versions[i] = m.UnitPriceFen, m.Quantity, m.UnitPriceFen*m.Quantity, e.Version
			fixed[i], registered[i] = m.FixedAsset, e.RecordedAt
		}
		out = append(out, []any{ids, evs, texts[0], texts[1], texts[2], texts[3], texts[4], texts[5], texts[6],
			prices, qtys, values, versions, acquired, fixed, registered})
	}
	return out, nil
}

// runProjection runs p (the ledger) from an empty checkpoint until it has committed the
// stream's n-th event.
func runProjection(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, p projection.Projection, n int, log *slog.Logger) (time.Duration, error) {
	done := make(chan struct{})
	var once sync.Once
	r := projection.NewRunner(pool, js, "bench", p, assetsService, log.With("bench", "projection"),
		projection.Options{Batch: batch, AckWait: 30 * time.Second,
			// Told at each commit, so the clock stops at the commit of the last event
			// without polling the checkpoint.
			AfterCommit: func(seq uint64) error {
				if seq >= uint64(n) {
					once.Do(func() { close(done) })
				}
				return nil
			}})
	start := time.Now()
	stop := runtime.Go(ctx, r.Run)
	defer stop() //nolint:errcheck // Run returns nil once cancelled
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	d := time.Since(start)
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger.assets`).Scan(&rows); err != nil {
		return 0, err
	}
	if rows != n {
		return 0, fmt.Errorf("bench: ledger holds %d assets after %d events", rows, n)
	}
	return d, nil
}

// rebuild replays the stream's n events into fresh ledger tables and swaps them in.
func rebuild(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, n int, log *slog.Logger) (time.Duration, error) {
	res, err := projection.Rebuild(ctx, pool, js, ledger.Projection{}, log, assetsService)
	if err != nil {
		return 0, err
	}
	if res.Events != uint64(n) {
		return 0, fmt.Errorf("bench: rebuild replayed %d events, want %d", res.Events, n)
	}
	return res.Duration, nil
}
