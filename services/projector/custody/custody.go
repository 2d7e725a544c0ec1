// Package custody is the read model of custody coverage (保管责任书): per term, which rooms
// have an agreement signed by their head at term start.
package custody

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the tables.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "custody" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.rooms (
    school_id text NOT NULL,
    code      text NOT NULL,
    name      text NOT NULL,
    building  text NOT NULL,
    PRIMARY KEY (school_id, code)
);
CREATE TABLE IF NOT EXISTS %[1]s.agreements (
    agreement_id text PRIMARY KEY,
    stream_id    text NOT NULL,
    school_id    text NOT NULL,
    term         text NOT NULL,
    unit_kind    text NOT NULL,
    unit         text NOT NULL,
    head         text NOT NULL,
    signed_on    text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS agreements_by_term ON %[1]s.agreements (school_id, term);`, pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch: rooms and agreements are inserted once; the start signature is kept
// once.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.RoomAdded:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.rooms (school_id, code, name, building) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, s), e.SchoolID, p.Code, p.Name, p.Building)
		case *eventsv1.CustodyAgreementDrawnUp:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.agreements (agreement_id, stream_id, school_id, term, unit_kind, unit, head)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, s),
				p.AgreementId, e.StreamID, e.SchoolID, p.Term, p.UnitKind, p.Unit, p.Head)
		case *eventsv1.CustodyAgreementSigned:
			if p.Phase == "start" {
				b.Queue(fmt.Sprintf(`UPDATE %s.agreements SET signed_on=$2 WHERE agreement_id=$1 AND signed_on=''`, s),
					p.AgreementId, p.SignedOn)
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Room is a room with its agreement for a term, if any.
type Room struct {
	Code, Name, Building string
	// Head and SignedOn of the term's agreement; StreamID empty when none was drawn up.
	Head, SignedOn, StreamID string
}

// Reader answers from the live tables.
type Reader struct{ Pool *pgxpool.Pool }

// Rooms returns school's rooms with their agreement of term (matched by the room's code or
// name, as the ledger's location names it), rooms without a signed agreement first.
func (r Reader) Rooms(ctx context.Context, school, term string) ([]Room, error) {
	rows, err := r.Pool.Query(ctx, `SELECT r.code, r.name, r.building, coalesce(a.head, ''), coalesce(a.signed_on, ''),
			coalesce(a.stream_id, '')
		FROM custody.rooms r LEFT JOIN LATERAL (
			SELECT head, signed_on, stream_id FROM custody.agreements a
			WHERE a.school_id = r.school_id AND a.term = $2 AND a.unit IN (r.code, r.name)
			ORDER BY signed_on DESC LIMIT 1) a ON true
		WHERE r.school_id = $1
		ORDER BY (coalesce(a.signed_on, '') <> ''), r.code`, school, term)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Room, error) {
		var x Room
		err := row.Scan(&x.Code, &x.Name, &x.Building, &x.Head, &x.SignedOn, &x.StreamID)
		return x, err
	})
}

// SignedStreams are the streams of the agreements behind the signed rooms of Rooms: per room,
// the term's agreement it reports, when signed.
func (r Reader) SignedStreams(ctx context.Context, school, term string) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT DISTINCT a.stream_id
		FROM custody.rooms r CROSS JOIN LATERAL (
			SELECT signed_on, stream_id FROM custody.agreements a
			WHERE a.school_id = r.school_id AND a.term = $2 AND a.unit IN (r.code, r.name)
			ORDER BY signed_on DESC LIMIT 1) a
		WHERE r.school_id = $1 AND a.signed_on <> '' ORDER BY a.stream_id`, school, term)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
