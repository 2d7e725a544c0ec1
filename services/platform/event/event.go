// Package event defines the envelope every Houqin event travels in: in the event store, on the
// bus and in projections. The payload is a protobuf message from a houqin.<svc>.events.v1 package.
package event

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event is one stored fact.
type Event struct {
	ID         uuid.UUID // UUIDv7: time-ordered
	StreamID   string    // "<aggregate type>:<id>", e.g. "asset:0192…"
	StreamType string    // aggregate type, e.g. "asset"
	Version    int64     // 1-based position in the stream
	SchoolID   string
	Type       string // full protobuf name, e.g. "houqin.assets.events.v1.AssetRegistered"
	Payload    []byte
	// OccurredAt is business time: when it happened in the world (goods received, asset bought).
	OccurredAt time.Time
	// RecordedAt is record time: when the system stored it.
	RecordedAt    time.Time
	Actor         string // subject of the caller's token
	CorrelationID string
	CausationID   string
	TraceParent   string // W3C traceparent of the command that produced it
	PolicyVersion string // version of the policy data the decision was judged against
	PrevHash      []byte // Hash of the previous event of the stream (32 zero bytes for the first)
	Hash          []byte

	// Sequence is the bus stream sequence, set only when the event was read from JetStream.
	Sequence uint64
}

// ShortType is the last element of Type ("AssetRegistered").
func (e Event) ShortType() string { return ShortType(e.Type) }

// ShortType returns the last dotted element of a full protobuf name.
func ShortType(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// GenesisHash is the PrevHash of every stream's first event.
var GenesisHash = make([]byte, sha256.Size)

// ComputeHash returns the chained hash of e over prev: SHA-256 over every field that carries
// meaning (not the trace context), each length-prefixed so no two events encode alike.
// Times are hashed at microsecond precision, the precision PostgreSQL keeps.
func (e Event) ComputeHash(prev []byte) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	putInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	put(prev)
	put(e.ID[:])
	put([]byte(e.StreamID))
	put([]byte(e.StreamType))
	putInt(e.Version)
	put([]byte(e.SchoolID))
	put([]byte(e.Type))
	put(e.Payload)
	putInt(e.OccurredAt.UnixMicro())
	putInt(e.RecordedAt.UnixMicro())
	put([]byte(e.Actor))
	put([]byte(e.CorrelationID))
	put([]byte(e.CausationID))
	put([]byte(e.PolicyVersion))
	return h.Sum(nil)
}

var tokenRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidToken reports whether s can be one NATS subject token of ours: lower-case letters,
// digits, '-' and '_' (no dots, wildcards or spaces).
func ValidToken(s string) bool { return tokenRE.MatchString(s) }

// Subject is the bus subject of an event: houqin.<service>.<school>.<aggregate>.<event>.
func Subject(service, school, aggregate, eventType string) (string, error) {
	for _, t := range []string{service, school, aggregate} {
		if !ValidToken(t) {
			return "", fmt.Errorf("event: %q cannot be a subject token", t)
		}
	}
	short := ShortType(eventType)
	if short == "" || strings.ContainsAny(short, ".*> \t") {
		return "", fmt.Errorf("event: %q cannot be a subject token", short)
	}
	return "houqin." + service + "." + school + "." + aggregate + "." + short, nil
}

// StreamID joins an aggregate type and id.
func StreamID(aggregate, id string) string { return aggregate + ":" + id }
