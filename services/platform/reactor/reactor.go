// Package reactor runs process managers: cross-service reactions to events (accepted goods in
// procurement → asset registrations in assets). A reactor consumes one service stream with a
// durable JetStream pull consumer, filtered to the event types it handles, and calls a handler
// per event type. It keeps no checkpoint: every handler issues idempotent commands (request and
// aggregate ids derived from the causing event), so a redelivery, a restart or a second
// instance acting on the same event changes nothing. A message is acknowledged after its
// handler succeeded; a failed one is redelivered with backoff (the other service is down),
// forever, unless the handler says the failure is permanent: a permanent refusal is parked
// (Parking, the parked_reactions table of the reacting service) before it is acknowledged, and
// runs again when an operator asks for a retry (RetryParked).
package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
)

// Handler reacts to one event (e, decoded as m). It must be idempotent. A nil error
// acknowledges the event; an error redelivers it later, unless wrapped by Permanent.
type Handler func(ctx context.Context, e event.Event, m proto.Message) error

// Permanent marks an error that a retry cannot cure (the other service refused the command
// as invalid): the event is parked (Options.Parking; logged and dropped without one) and not
// delivered again until an operator asks for a retry.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (p permanentError) Unwrap() error { return p.error }

// Options tune a reactor.
type Options struct {
	// Backoff is the delay before the n-th redelivery (n from 1) of a failed event (default
	// 200 ms doubling up to 30 s).
	Backoff func(n uint64) time.Duration
	// AckWait is how long an event may be handled before JetStream delivers it again (default
	// 30 s); a handler's context ends a little earlier.
	AckWait time.Duration
	// MaxAckPending bounds the events delivered but not yet acknowledged (default 256): a
	// failing event waits for its redelivery while the others go on.
	MaxAckPending int
	// FetchWait is how long one pull waits for events (default 1 s); a stopping reactor
	// gives back what it holds within it.
	FetchWait time.Duration
	// Parking keeps the permanently refused reactions (nil: they are logged and dropped).
	Parking *Parking
	// RetryEvery is how often a running reactor looks for parked reactions an operator asked
	// to retry (default 5 s).
	RetryEvery time.Duration
}

// Stats counts what a reactor did.
type Stats struct {
	Handled  uint64 // events whose handler succeeded
	Retried  uint64 // failures redelivered later
	Dropped  uint64 // permanent failures without a parking, and messages that are no events
	Parked   uint64 // permanent failures parked (a redelivery of a parked event counts again)
	Resolved uint64 // parked reactions a retry performed
}

// Reactor consumes one service's stream for one process manager.
type Reactor struct {
	js       jetstream.JetStream
	name     string
	service  string
	handlers map[string]Handler
	log      *slog.Logger
	opts     Options

	handled, retried, dropped, parked, resolved atomic.Uint64
}

// New returns the reactor name (its durable consumer is "react-<name>") over service's
// stream, calling handlers by full event type (houqin.assets.events.v1.AssetRegistered).
func New(js jetstream.JetStream, name, service string, handlers map[string]Handler, log *slog.Logger, opts Options) *Reactor {
	if opts.Backoff == nil {
		opts.Backoff = func(n uint64) time.Duration {
			d := 200 * time.Millisecond << min(n-1, 8)
			return min(d, 30*time.Second)
		}
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.MaxAckPending <= 0 {
		opts.MaxAckPending = 256
	}
	if opts.FetchWait <= 0 {
		opts.FetchWait = time.Second
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = 5 * time.Second
	}
	return &Reactor{js: js, name: name, service: service, handlers: handlers, opts: opts,
		log: log.With("reactor", name, "stream", bus.StreamName(service))}
}

// Stats returns the counts so far.
func (r *Reactor) Stats() Stats {
	return Stats{Handled: r.handled.Load(), Retried: r.retried.Load(), Dropped: r.dropped.Load(),
		Parked: r.parked.Load(), Resolved: r.resolved.Load()}
}

// ConsumerName is the durable consumer of the reactor.
func (r *Reactor) ConsumerName() string { return "react-" + r.name }

// Run handles events until ctx ends. Any number of instances may run: they share the durable
// consumer, so each event goes to one of them at a time. Transient bus errors are retried.
// With a parking, it also retries the parked reactions an operator asked for.
func (r *Reactor) Run(ctx context.Context) error {
	if r.opts.Parking != nil {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); r.retryLoop(ctx) }()
		defer wg.Wait()
	}
	backoff := 100 * time.Millisecond
	for {
		err := r.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Error("reactor interrupted, retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// filters are the subjects of the handled event types: houqin.<service>.*.*.<Event>.
func (r *Reactor) filters() []string {
	var fs []string
	for t := range r.handlers {
		fs = append(fs, "houqin."+r.service+".*.*."+event.ShortType(t))
	}
	sort.Strings(fs)
	return fs
}

// Consumer creates or updates the reactor's durable consumer. It starts at the beginning of
// the stream the first time: a process manager deployed late still reacts to what happened
// before it.
func (r *Reactor) Consumer(ctx context.Context) (jetstream.Consumer, error) {
	return r.js.CreateOrUpdateConsumer(ctx, bus.StreamName(r.service), jetstream.ConsumerConfig{
		Durable:        r.ConsumerName(),
		Description:    "Houqin process manager " + r.name,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        r.opts.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  r.opts.MaxAckPending,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		FilterSubjects: r.filters(),
	})
}

func (r *Reactor) run(ctx context.Context) error {
	cons, err := r.Consumer(ctx)
	if err != nil {
		return fmt.Errorf("reactor: consumer: %w", err)
	}
	// Short one-shot pulls rather than a standing subscription: when the reactor stops, what
	// was delivered to it and not handled is given back at once (Nak) instead of waiting for
	// the ack deadline, so a restart or another instance takes it over without delay.
	for ctx.Err() == nil {
		batch, err := cons.Fetch(r.opts.MaxAckPending, jetstream.FetchMaxWait(r.opts.FetchWait))
		if err != nil {
			return fmt.Errorf("reactor: fetch: %w", err)
		}
		for m := range batch.Messages() {
			if ctx.Err() != nil {
				_ = m.Nak()
				continue
			}
			r.handle(ctx, m)
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("reactor: fetch: %w", err)
		}
	}
	return ctx.Err()
}

// handle runs the handler of one message and acknowledges, redelivers or drops it.
func (r *Reactor) handle(ctx context.Context, m jetstream.Msg) {
	e, err := bus.FromMsg(m)
	var attempt uint64 = 1
	if md, merr := m.Metadata(); merr == nil {
		attempt = md.NumDelivered
	}
	notEvent := err != nil
	if notEvent {
		err = Permanent(err) // not an event of ours: no retry makes it one
	} else {
		err = r.call(ctx, e)
	}
	log := r.log.With("event_id", e.ID, "type", e.Type, "stream_id", e.StreamID, "attempt", attempt)
	switch {
	case err == nil:
		r.handled.Add(1)
		if aerr := m.Ack(); aerr != nil {
			log.Warn("ack failed; the event comes back and is handled again", "err", aerr)
		}
	case errors.As(err, new(permanentError)) && (notEvent || r.opts.Parking == nil):
		r.dropped.Add(1)
		log.Error("event cannot be handled; dropped", "err", err)
		_ = m.Term()
	case errors.As(err, new(permanentError)):
		// Parked first, acknowledged after: a crash in between delivers it again, which
		// counts an attempt on the same row.
		if perr := r.opts.Parking.park(ctx, r.name, bus.StreamName(r.service), e, err); perr != nil {
			r.retried.Add(1)
			delay := r.opts.Backoff(attempt)
			log.Warn("event refused and not parked yet, retrying", "err", err, "park_err", perr, "in", delay)
			_ = m.NakWithDelay(delay)
			return
		}
		r.parked.Add(1)
		log.Error("event refused; parked until an operator retries it", "err", err)
		if aerr := m.Ack(); aerr != nil {
			log.Warn("ack failed; the event comes back and is parked again", "err", aerr)
		}
	case ctx.Err() != nil:
		_ = m.Nak() // stopping: someone else takes it now
	default:
		r.retried.Add(1)
		delay := r.opts.Backoff(attempt)
		log.Warn("event not handled yet, retrying", "err", err, "in", delay)
		_ = m.NakWithDelay(delay)
	}
}

func (r *Reactor) retryLoop(ctx context.Context) {
	t := time.NewTicker(r.opts.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := r.RetryParked(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("retrying parked reactions", "err", err)
		}
	}
}

// RetryParked runs again the parked reactions of this reactor an operator asked to retry
// (Parking.RequestRetry): each event, as its row keeps it (or, for rows parked before events
// were kept, read back from the stream by its sequence), is given to the same handler, whose commands are idempotent, so a retry never acts twice. A success
// resolves the row (kept as history); a refusal parks it again (one more attempt, the retry
// request cleared); a transient failure leaves the request for the next pass. It returns how
// many it resolved.
func (r *Reactor) RetryParked(ctx context.Context) (int, error) {
	p := r.opts.Parking
	if p == nil {
		return 0, nil
	}
	todo, err := p.requested(ctx, r.name)
	if err != nil || len(todo) == 0 {
		return 0, err
	}
	resolved := 0
	var failed error
	for _, x := range todo {
		log := r.log.With("event_id", x.EventID, "type", x.EventType, "stream_id", x.StreamID, "parked_attempts", x.Attempts)
		e, err := r.parkedEvent(ctx, x)
		if err != nil && !errors.As(err, new(permanentError)) {
			failed = errors.Join(failed, err)
			continue
		}
		if err == nil {
			err = r.call(ctx, e)
		}
		switch {
		case err == nil:
			if err := p.resolve(ctx, r.name, x.EventID); err != nil {
				failed = errors.Join(failed, fmt.Errorf("reactor: resolve parked %s: %w", x.EventID, err))
				continue
			}
			r.resolved.Add(1)
			resolved++
			log.Info("parked reaction performed")
		case errors.As(err, new(permanentError)):
			if err := p.repark(ctx, r.name, x.EventID, err); err != nil {
				failed = errors.Join(failed, err)
				continue
			}
			log.Error("parked reaction refused again", "err", err)
		default:
			log.Warn("parked reaction not performed yet, retrying later", "err", err)
			failed = errors.Join(failed, fmt.Errorf("reactor: parked %s: %w", x.EventID, err))
		}
	}
	return resolved, failed
}

// parkedEvent is the event of a parked reaction: kept in its row, or else (rows parked before
// events were kept) read back from the stream by its sequence. An event that cannot be had
// is a Permanent error: the row is parked again, with the reason.
func (r *Reactor) parkedEvent(ctx context.Context, x Parked) (event.Event, error) {
	var e event.Event
	var err error
	if x.Kept {
		e, err = bus.FromEnvelope(x.headers, x.payload, x.BusSequence)
	} else {
		var stream jetstream.Stream
		if stream, err = r.js.Stream(ctx, bus.StreamName(r.service)); err != nil {
			return e, fmt.Errorf("reactor: stream: %w", err)
		}
		raw, gerr := stream.GetMsg(ctx, x.BusSequence)
		switch {
		case errors.Is(gerr, jetstream.ErrMsgNotFound):
			return e, Permanent(status.Errorf(grpccodes.NotFound, "event %s is no longer in stream %s at %d", x.EventID, x.BusStream, x.BusSequence))
		case gerr != nil:
			return e, fmt.Errorf("reactor: read parked event %s: %w", x.EventID, gerr)
		}
		e, err = bus.FromRaw(raw)
	}
	if err == nil && e.ID.String() != x.EventID {
		err = fmt.Errorf("parked event %s reads back as %s (%s at %d)", x.EventID, e.ID, x.BusStream, x.BusSequence)
	}
	if err != nil {
		return e, Permanent(err)
	}
	return e, nil
}

// call decodes e and runs its handler within the ack deadline, in a span linked to the trace
// of the command that produced e.
func (r *Reactor) call(ctx context.Context, e event.Event) (err error) {
	h, ok := r.handlers[e.Type]
	if !ok {
		return nil // a filter that matched another service's type of the same short name
	}
	msg, err := e.Decode()
	if err != nil {
		return Permanent(err)
	}
	if e.TraceParent != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": e.TraceParent})
	}
	ctx, span := otel.Tracer("houqin.dev/platform/reactor").Start(ctx, "react "+r.name+" "+e.ShortType())
	defer func() {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	ctx, cancel := context.WithTimeout(ctx, r.opts.AckWait*9/10)
	defer cancel()
	return h(ctx, e, msg)
}

// commandSpace is the UUIDv5 name space of request ids derived from events.
var commandSpace = uuid.MustParse("2b7e1516-28ae-5d2a-abf7-158809cf4f3c")

// CommandID derives the request id of a command issued in reaction to an event: the same
// reaction (what, e.g. "register-asset") to the same key (an event or line id) always gives
// the same id, so a redelivered reaction is answered as a repeat.
func CommandID(what, key string) string {
	return uuid.NewSHA1(commandSpace, []byte(what+"\x00"+key)).String()
}
