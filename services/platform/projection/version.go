package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/pgkit"
)

// Schema versions (投影版本). A projection declares Version(), bumped by whoever changes its
// tables or what its Apply writes; projection_versions keeps the version the live tables were
// built with. A runner started from a catalog compares the two before it consumes:
//
//   - the same, or none recorded and nothing applied yet (a fresh install): it records the
//     declared version and goes on, without a rebuild;
//   - none recorded but events applied: the tables predate versions, which counts as version 1;
//   - older than declared: it rebuilds the projection from every stream it reads (Rebuild:
//     fresh tables, swap) and records the declared version;
//   - newer than declared (an older build still running during an upgrade): it goes on as is,
//     so two builds never rebuild back and forth.
//
// One check runs at a time per projection (a transaction-scoped advisory lock), so of the
// runners of a projection over several streams, or of several replicas, one rebuilds and the
// others then find the version recorded.

// upgrade brings p's live tables to p.Version(), rebuilding from services' streams if they
// were built with an older one, or unconditionally if force; it reports whether it rebuilt.
func upgrade(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, p Projection, log *slog.Logger, force bool, services ...string) (rebuilt bool, res RebuildResult, err error) {
	name, declared := p.Name(), p.Version()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgkit.LockKey("houqin-projection-version-"+name)); err != nil {
			return err
		}
		var recorded int
		err := tx.QueryRow(ctx, `SELECT version FROM projection_versions WHERE projection=$1`, name).Scan(&recorded)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var applied int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM projection_checkpoints WHERE projection=$1`, name).Scan(&applied); err != nil {
				return err
			}
			recorded = 1
			if applied == 0 {
				recorded = declared
			}
		case err != nil:
			return err
		}
		switch {
		case force:
		case recorded == declared:
			_, err := tx.Exec(ctx, `INSERT INTO projection_versions (projection, version) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, declared)
			return err
		case recorded > declared:
			log.Warn("投影表由更新的版本建成，按原样继续 / projection tables were built by a newer version; going on as they are",
				"projection", name, "built", recorded, "declared", declared)
			return nil
		default:
			log.Info("投影版本已变，从事件流重建 / projection version changed: rebuilding from the streams",
				"projection", name, "from", recorded, "to", declared)
		}
		if res, err = Rebuild(ctx, pool, js, p, log, services...); err != nil {
			return err
		}
		rebuilt = true
		_, err = tx.Exec(ctx, `INSERT INTO projection_versions (projection, version) VALUES ($1, $2)
			ON CONFLICT (projection) DO UPDATE SET version=excluded.version, updated_at=now()`, name, declared)
		return err
	})
	if err != nil {
		return false, RebuildResult{}, fmt.Errorf("projection %s: version %d: %w", name, declared, err)
	}
	return rebuilt, res, nil
}

// Version returns the schema version projection's live tables were built with, 0 if none is
// recorded.
func Version(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, projection string) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT version FROM projection_versions WHERE projection=$1`, projection).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
