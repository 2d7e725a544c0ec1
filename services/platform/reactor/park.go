package reactor

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the parked_reactions table in the reacting service's database.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgkit.Migrate(ctx, pool, "reactor", migrations, "migrations")
}

// Parking is the parked_reactions table of a reacting service: the reactions refused for
// good, kept until a retry succeeds. Nothing is lost: a refused event is acknowledged only
// after its row is committed.
type Parking struct{ pool *pgxpool.Pool }

// NewParking is the parking of the database behind pool (migrated with Migrate).
func NewParking(pool *pgxpool.Pool) *Parking { return &Parking{pool: pool} }

// Parked is one parked reaction.
type Parked struct {
	Reactor        string
	EventID        string
	StreamID       string // the event's aggregate stream
	EventType      string
	SchoolID       string
	BusStream      string // the JetStream stream holding the event
	BusSequence    uint64
	Code           string // gRPC code of the refusal
	Reason         string // its ErrorInfo reason, if any
	Message        string
	Attempts       int
	FirstAt        time.Time
	LastAt         time.Time
	RetryRequested *time.Time
	Resolved       *time.Time
	// Kept says the row holds the event itself (bus.Envelope), so a retry does not need the
	// stream; rows parked before it was kept are read back from the stream.
	Kept bool

	headers, payload []byte
}

// refusal describes err as the gRPC status the other side answered (or would have: a
// domain error of the same service is mapped as the gRPC layer maps it).
func refusal(err error) (code, reason, msg string) {
	var perm permanentError
	if errors.As(err, &perm) {
		err = perm.error
	}
	st, ok := status.FromError(err)
	if !ok {
		st = status.Convert(grpckit.ToStatus(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), err))
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			reason = ei.Reason
		}
	}
	return st.Code().String(), reason, err.Error()
}

// park records that reactor could not handle e (read from busStream) because of err. A
// second delivery of the same event counts an attempt on the same row (and reopens it if a
// retry had resolved it).
func (p *Parking) park(ctx context.Context, reactor, busStream string, e event.Event, err error) error {
	code, reason, msg := refusal(err)
	headers, payload, err := bus.Envelope(e)
	if err != nil {
		return fmt.Errorf("reactor: park %s: %w", e.ID, err)
	}
	if payload == nil {
		payload = []byte{} // kept, if empty
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO parked_reactions
		(reactor, event_id, stream_id, event_type, school_id, bus_stream, bus_sequence, code, reason, message,
		 event_headers, event_payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (reactor, event_id) DO UPDATE SET attempts = parked_reactions.attempts + 1, last_at = now(),
			code = excluded.code, reason = excluded.reason, message = excluded.message,
			bus_sequence = excluded.bus_sequence, event_headers = excluded.event_headers,
			event_payload = excluded.event_payload, retry_requested_at = NULL, resolved_at = NULL`,
		reactor, e.ID, e.StreamID, e.Type, e.SchoolID, busStream, int64(e.Sequence), code, reason, msg, headers, payload)
	if err != nil {
		return fmt.Errorf("reactor: park %s: %w", e.ID, err)
	}
	return nil
}

// Filter selects parked reactions: of one reactor, one event, resolved ones too.
type Filter struct {
	Reactor  string
	EventID  string
	Resolved bool
}

func (f Filter) where() (string, []any) {
	q := `($1 = '' OR reactor = $1) AND ($2 = '' OR event_id::text = $2)`
	if !f.Resolved {
		q += ` AND resolved_at IS NULL`
	}
	return q, []any{f.Reactor, f.EventID}
}

// List returns the parked reactions f selects, oldest first.
func (p *Parking) List(ctx context.Context, f Filter) ([]Parked, error) {
	w, args := f.where()
	rows, err := p.pool.Query(ctx, `SELECT reactor, event_id::text, stream_id, event_type, school_id, bus_stream,
		bus_sequence, code, reason, message, attempts, first_at, last_at, retry_requested_at, resolved_at,
		event_headers, event_payload FROM parked_reactions WHERE `+w+` ORDER BY first_at, reactor, event_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reactor: parked: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Parked, error) {
		var x Parked
		var seq int64
		err := r.Scan(&x.Reactor, &x.EventID, &x.StreamID, &x.EventType, &x.SchoolID, &x.BusStream, &seq,
			&x.Code, &x.Reason, &x.Message, &x.Attempts, &x.FirstAt, &x.LastAt, &x.RetryRequested, &x.Resolved,
			&x.headers, &x.payload)
		x.BusSequence = uint64(seq)
		x.Kept = x.headers != nil && x.payload != nil
		return x, err
	})
}

// RequestRetry asks the reactors to run the open parked reactions f selects again (the
// running service does so within its retry interval, or Reactor.RetryParked at once). It
// returns how many were asked.
func (p *Parking) RequestRetry(ctx context.Context, f Filter) (int64, error) {
	f.Resolved = false
	w, args := f.where()
	tag, err := p.pool.Exec(ctx, `UPDATE parked_reactions SET retry_requested_at = now() WHERE `+w, args...)
	if err != nil {
		return 0, fmt.Errorf("reactor: retry parked: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Open counts the open parked reactions by reactor.
func (p *Parking) Open(ctx context.Context) (map[string]int64, error) {
	rows, err := p.pool.Query(ctx, `SELECT reactor, count(*) FROM parked_reactions WHERE resolved_at IS NULL GROUP BY reactor`)
	if err != nil {
		return nil, fmt.Errorf("reactor: parked: %w", err)
	}
	n := map[string]int64{}
	var r string
	var c int64
	_, err = pgx.ForEachRow(rows, []any{&r, &c}, func() error { n[r] = c; return nil })
	return n, err
}

// requested are the open reactions of reactor an operator asked to retry.
func (p *Parking) requested(ctx context.Context, reactor string) ([]Parked, error) {
	all, err := p.List(ctx, Filter{Reactor: reactor})
	if err != nil {
		return nil, err
	}
	var out []Parked
	for _, x := range all {
		if x.RetryRequested != nil {
			out = append(out, x)
		}
	}
	return out, nil
}

func (p *Parking) resolve(ctx context.Context, reactor, eventID string) error {
	_, err := p.pool.Exec(ctx, `UPDATE parked_reactions SET resolved_at = now(), retry_requested_at = NULL, last_at = now()
		WHERE reactor = $1 AND event_id = $2::uuid AND resolved_at IS NULL`, reactor, eventID)
	return err
}

// repark records one more refusal of a parked reaction and clears its retry request.
func (p *Parking) repark(ctx context.Context, reactor, eventID string, err error) error {
	code, reason, msg := refusal(err)
	_, err = p.pool.Exec(ctx, `UPDATE parked_reactions SET attempts = attempts + 1, last_at = now(), code = $3, reason = $4,
		message = $5, retry_requested_at = NULL WHERE reactor = $1 AND event_id = $2::uuid`, reactor, eventID, code, reason, msg)
	if err != nil {
		return fmt.Errorf("reactor: park %s again: %w", eventID, err)
	}
	return nil
}

// ObserveParked exposes the open parked reactions of the service per reactor as the gauge
// houqin.reactor.parked (houqin_reactor_parked in Prometheus), read from the table at each
// collection: an operator sees what waits for them. Parked reactions do not make a service
// unready.
func ObserveParked(m metric.Meter, p *Parking) error {
	g, err := m.Int64ObservableGauge("houqin.reactor.parked",
		metric.WithDescription("reactions refused for good and parked until an operator retries them"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, err := p.Open(ctx)
		if err != nil {
			return err
		}
		for r, c := range n {
			o.ObserveInt64(g, c, metric.WithAttributes(attribute.String("reactor", r)))
		}
		return nil
	}, g)
	return err
}
