// Package writeside sets up what every event-sourced service's write path needs, in one place:
// the event store's tables, the service's JetStream stream, the event store with group commit,
// the outbox relay woken by each append, and the outbox lag gauges. A service calls Open after
// runtime.Base.Open, adds Background to its server's background tasks and Drain to its drain.
package writeside

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/runtime"
)

// Options configure the write side of service Name.
type Options struct {
	// Name is the service's name on the bus (subjects houqin.<name>.…, stream HOUQIN_<NAME>).
	Name            string
	StreamReplicas  int
	DuplicateWindow time.Duration
	// GroupCommit is the number of committers combining concurrent appends (0: off).
	GroupCommit int
	// RelayBatch is the outbox publish batch unless Relay.Batch is set.
	RelayBatch int
	// Relay tunes the relay (crash tests set hooks).
	Relay outbox.Options
}

// Writer is a service's event store and its relay.
type Writer struct {
	Store     *eventstore.Store
	Relay     *outbox.Relay
	stopGroup context.CancelFunc
}

// Open migrates the event store in b's database, makes sure the service's stream exists and
// starts group commit. On error nothing keeps running.
func Open(ctx context.Context, b *runtime.Base, log *slog.Logger, o Options) (*Writer, error) {
	if err := eventstore.Migrate(ctx, b.Pool); err != nil {
		return nil, err
	}
	if _, err := bus.EnsureStream(ctx, b.JS, o.Name, bus.StreamConfig{Replicas: o.StreamReplicas, Duplicates: o.DuplicateWindow}); err != nil {
		return nil, err
	}
	relayOpts := o.Relay
	if relayOpts.Batch == 0 {
		relayOpts.Batch = o.RelayBatch
	}
	relay, err := outbox.New(b.Pool, b.NC, o.Name, log, relayOpts)
	if err != nil {
		return nil, err
	}
	w := &Writer{Store: eventstore.New(b.Pool, o.Name), Relay: relay}
	if err := observeOutbox(otel.Meter("houqin.dev/"+o.Name), b); err != nil {
		return nil, fmt.Errorf("%s: outbox metrics: %w", o.Name, err)
	}
	// Group commit lives until the server has stopped taking calls (see Drain).
	gctx, stop := context.WithCancel(context.Background())
	w.stopGroup = stop
	w.Store.EnableGroupCommit(gctx, o.GroupCommit, 64)
	w.Store.OnAppend(w.Relay.Wake)
	return w, nil
}

// Background are the tasks the server runs: the NOTIFY listener that wakes relays of other
// processes, and the relay itself (one leader per service).
func (w *Writer) Background() []func(context.Context) error {
	return []func(context.Context) error{
		func(ctx context.Context) error { w.Store.RunNotifier(ctx, w.Relay.Leading); return nil },
		w.Relay.Run,
	}
}

// Drain runs after the server's last call: it stops combining appends and publishes what was
// committed.
func (w *Writer) Drain(ctx context.Context) error {
	w.Stop()
	_, err := w.Relay.Drain(ctx)
	return err
}

// Stop ends group commit (Drain does it; a service that failed to start calls it). Safe on nil.
func (w *Writer) Stop() {
	if w != nil && w.stopGroup != nil {
		w.stopGroup()
	}
}

// observeOutbox registers the outbox lag gauges.
func observeOutbox(m metric.Meter, b *runtime.Base) error {
	pending, err := m.Int64ObservableGauge("houqin.outbox.pending", metric.WithDescription("events committed but not yet published"))
	if err != nil {
		return err
	}
	age, err := m.Float64ObservableGauge("houqin.outbox.oldest_age", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest unpublished event"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, oldest, err := outbox.Pending(ctx, b.Pool)
		if err != nil {
			return err
		}
		o.ObserveInt64(pending, n)
		o.ObserveFloat64(age, oldest.Seconds())
		return nil
	}, pending, age)
	return err
}
