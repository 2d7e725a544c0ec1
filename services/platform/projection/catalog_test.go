package projection_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
)

type named struct {
	journal
	name string
}

func (n named) Name() string { return n.name }

func TestCatalogRefusesBadNamesAndDoubleSubscriptions(t *testing.T) {
	for _, c := range []projection.Catalog{
		{Owner: "assets", Subscriptions: []projection.Subscription{{Projection: journal{}, Service: "assets"}, {Projection: journal{}, Service: "assets"}}},
		{Owner: "my-service", Subscriptions: []projection.Subscription{{Projection: journal{}, Service: "assets"}}},
		{Owner: "assets", Subscriptions: []projection.Subscription{{Projection: named{name: "a-b"}, Service: "assets"}}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := c.Start(context.Background(), nil, nil, quiet, projection.Options{}); err == nil {
			t.Errorf("%+v started", c)
		}
	}
	ok := projection.Catalog{Owner: "projector", Subscriptions: []projection.Subscription{
		{Projection: journal{}, Service: "assets"}, {Projection: named{name: "other"}, Service: "assets"}, {Projection: journal{}, Service: "procurement"}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ok.Names(), ","); got != "journal,other" {
		t.Fatalf("names %s", got)
	}
	if p, svcs := ok.Find("journal"); p == nil || strings.Join(svcs, ",") != "assets,procurement" {
		t.Fatalf("find: %v %v", p, svcs)
	}
	if _, err := ok.Rebuild(context.Background(), nil, nil, "nope", quiet); err == nil {
		t.Fatal("rebuilt an unknown projection")
	}
}

// Two services keep a projection of the same name over the same stream, each in its own
// database. Each must see every event: with one shared durable consumer, JetStream would
// hand each only some of them.
func TestTwoOwnersOfOneProjectionNameEachGetEveryEvent(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	other := testkit.Pool(t)
	a := projection.Catalog{Owner: "projector", Subscriptions: []projection.Subscription{{Projection: journal{}, Service: "assets"}}}
	b := projection.Catalog{Owner: "assets", Subscriptions: []projection.Subscription{{Projection: journal{}, Service: "assets"}}}
	ra, err := a.Start(ctx, f.pool, f.js, quiet, projection.Options{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Start(ctx, other, f.js, quiet, projection.Options{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	if ra[0].ConsumerName() == rb[0].ConsumerName() {
		t.Fatalf("both use consumer %s", ra[0].ConsumerName())
	}
	stopA, stopB := start(ra[0]), start(rb[0])
	f.publish(t, 1200)
	f.waitFor(t, 1200)
	(&fixture{pool: other}).waitFor(t, 1200)
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Fatal(err)
	}
}

// A deployment from before owners were in consumer names has a durable proj-<name> and a
// checkpoint. The new runner must go on right after the checkpoint — not replay from 1 into
// its tables, not skip what was published meanwhile — and remove the old consumer.
func TestUpgradeFromTheOwnerlessConsumerName(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	c := projection.Catalog{Owner: "projector", Subscriptions: []projection.Subscription{{Projection: journal{}, Service: "assets"}}}
	rs, err := c.Start(ctx, f.pool, f.js, quiet, projection.Options{Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(rs[0])
	f.publish(t, 700)
	f.waitFor(t, 700)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// What the older version left: its consumer at the checkpoint, none of the new name.
	stream, err := f.js.Stream(ctx, bus.StreamName("assets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteConsumer(ctx, rs[0].ConsumerName()); err != nil {
		t.Fatal(err)
	}
	legacy := legacyConsumer(t, ctx, stream, f.pool, "journal")
	f.publish(t, 300) // published while upgrading

	rs, err = c.Start(ctx, f.pool, f.js, quiet, projection.Options{Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	stop = start(rs[0])
	f.waitFor(t, 1000) // each event once: 700 before, 300 after
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s := rs[0].Stats(); s.Applied != 300 || s.Skipped != 0 {
		t.Fatalf("after the upgrade: %+v, want 300 applied and nothing replayed", s)
	}
	if _, err := stream.Consumer(ctx, legacy); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("old consumer %s still there: %v", legacy, err)
	}
}

// legacyConsumer creates the durable consumer an older runner of projection had, positioned
// at its checkpoint as that runner would have left it.
func legacyConsumer(t *testing.T, ctx context.Context, stream jetstream.Stream, pool *pgxpool.Pool, name string) string {
	t.Helper()
	cp, err := projection.Checkpoint(ctx, pool, name, "assets")
	if err != nil || cp == 0 {
		t.Fatalf("checkpoint %d: %v", cp, err)
	}
	legacy := "proj-" + name
	if _, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: legacy, AckPolicy: jetstream.AckAllPolicy,
		AckWait: 30 * time.Second, MaxDeliver: -1, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cp + 1}); err != nil {
		t.Fatal(fmt.Errorf("legacy consumer: %w", err))
	}
	return legacy
}
