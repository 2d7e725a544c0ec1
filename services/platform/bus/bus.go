// Package bus is Houqin's side of NATS JetStream: one stream per service holding every event it
// ever published, subjects houqin.<service>.<school>.<aggregate>.<event>, and the mapping
// between an event envelope and a message.
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/event"
)

// StreamConfig says how service streams are kept.
type StreamConfig struct {
	// Replicas: 3 in a cluster, 1 on a single node.
	Replicas int
	// Duplicates is the de-duplication window for Nats-Msg-Id (default 2 min). A relay that
	// crashes after publishing must republish within it.
	Duplicates time.Duration
}

// StreamName is the JetStream stream of a service, e.g. HOUQIN_ASSETS.
func StreamName(service string) string { return "HOUQIN_" + strings.ToUpper(service) }

// SubjectFilter matches every event of a service.
func SubjectFilter(service string) string { return "houqin." + service + ".>" }

// EnsureStream creates or updates a service's stream: file storage, no age or size limit (the
// log is replayable from the start), de-duplication by message id.
func EnsureStream(ctx context.Context, js jetstream.JetStream, service string, c StreamConfig) (jetstream.Stream, error) {
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 2 * time.Minute
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName(service),
		Description: "Houqin " + service + " events",
		Subjects:    []string{SubjectFilter(service)},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    c.Replicas,
		Duplicates:  c.Duplicates,
		Discard:     jetstream.DiscardOld,
		MaxAge:      0,
		MaxMsgs:     -1,
		MaxBytes:    -1,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: stream %s: %w", StreamName(service), err)
	}
	return st, nil
}

// Message headers carrying the envelope. Nats-Msg-Id is the event id.
const (
	HdrEventType     = "Houqin-Event-Type"
	HdrStreamID      = "Houqin-Stream-Id"
	HdrStreamType    = "Houqin-Stream-Type"
	HdrVersion       = "Houqin-Version"
	HdrSchool        = "Houqin-School"
	HdrOccurredAt    = "Houqin-Occurred-At"
	HdrRecordedAt    = "Houqin-Recorded-At"
	HdrActor         = "Houqin-Actor"
	HdrCorrelationID = "Houqin-Correlation-Id"
	HdrCausationID   = "Houqin-Causation-Id"
	HdrPolicyVersion = "Houqin-Policy-Version"
	HdrHash          = "Houqin-Hash"
	HdrTraceParent   = "traceparent"
)

// ToMsg builds the message that publishes e on subject.
func ToMsg(subject string, e event.Event) *nats.Msg {
	m := nats.NewMsg(subject)
	h := m.Header
	h.Set(nats.MsgIdHdr, e.ID.String())
	h.Set(HdrEventType, e.Type)
	h.Set(HdrStreamID, e.StreamID)
	h.Set(HdrStreamType, e.StreamType)
	h.Set(HdrVersion, strconv.FormatInt(e.Version, 10))
	h.Set(HdrSchool, e.SchoolID)
	h.Set(HdrOccurredAt, e.OccurredAt.UTC().Format(time.RFC3339Nano))
	h.Set(HdrRecordedAt, e.RecordedAt.UTC().Format(time.RFC3339Nano))
	setIf(h, HdrActor, e.Actor)
	setIf(h, HdrCorrelationID, e.CorrelationID)
	setIf(h, HdrCausationID, e.CausationID)
	setIf(h, HdrPolicyVersion, e.PolicyVersion)
	setIf(h, HdrTraceParent, e.TraceParent)
	h.Set(HdrHash, fmt.Sprintf("%x", e.Hash))
	m.Data = e.Payload
	return m
}

func setIf(h nats.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// FromMsg reads the envelope back from a JetStream message, with its stream sequence.
func FromMsg(m jetstream.Msg) (event.Event, error) {
	var seq uint64
	if md, err := m.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	return fromHeaders(m.Subject(), m.Headers(), m.Data(), seq)
}

// FromRaw reads the envelope back from a message read from the stream by sequence
// (Stream.GetMsg): a parked reaction re-reads its event so.
func FromRaw(m *jetstream.RawStreamMsg) (event.Event, error) {
	return fromHeaders(m.Subject, m.Header, m.Data, m.Sequence)
}

// Envelope returns e as its message carries it, headers (as JSON) and payload: what a parked
// reaction keeps to run e again once the stream no longer holds it (FromEnvelope).
func Envelope(e event.Event) (headers, payload []byte, err error) {
	headers, err = json.Marshal(ToMsg("", e).Header)
	return headers, e.Payload, err
}

// FromEnvelope reads back an event kept by Envelope, with the stream sequence it had.
func FromEnvelope(headers, payload []byte, seq uint64) (event.Event, error) {
	var h nats.Header
	if err := json.Unmarshal(headers, &h); err != nil {
		return event.Event{}, fmt.Errorf("bus: kept event: %w", err)
	}
	return fromHeaders("(kept)", h, payload, seq)
}

func fromHeaders(subject string, h nats.Header, data []byte, seq uint64) (event.Event, error) {
	var e event.Event
	var err error
	if e.ID, err = uuid.Parse(h.Get(nats.MsgIdHdr)); err != nil {
		return e, fmt.Errorf("bus: message on %s has no event id: %w", subject, err)
	}
	e.Type = h.Get(HdrEventType)
	e.StreamID = h.Get(HdrStreamID)
	e.StreamType = h.Get(HdrStreamType)
	e.SchoolID = h.Get(HdrSchool)
	if e.Version, err = strconv.ParseInt(h.Get(HdrVersion), 10, 64); err != nil {
		return e, fmt.Errorf("bus: event %s: version: %w", e.ID, err)
	}
	if e.OccurredAt, err = time.Parse(time.RFC3339Nano, h.Get(HdrOccurredAt)); err != nil {
		return e, fmt.Errorf("bus: event %s: occurred at: %w", e.ID, err)
	}
	if e.RecordedAt, err = time.Parse(time.RFC3339Nano, h.Get(HdrRecordedAt)); err != nil {
		return e, fmt.Errorf("bus: event %s: recorded at: %w", e.ID, err)
	}
	e.Actor = h.Get(HdrActor)
	e.CorrelationID = h.Get(HdrCorrelationID)
	e.CausationID = h.Get(HdrCausationID)
	e.PolicyVersion = h.Get(HdrPolicyVersion)
	e.TraceParent = h.Get(HdrTraceParent)
	e.Payload = data
	e.Sequence = seq
	return e, nil
}
