package bench

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	"houqin.dev/tools/internal/demo"
)

// corpus is a set of AssetRegistered events shaped like the ones RegisterAsset appends: one
// new stream each, payloads from the demo catalogue of every demo school, real metadata and
// hash chain. The relay and projection measurements and their baselines all use it, so every
// side moves the same bytes.
type corpus struct {
	events   []event.Event
	payloads []*eventsv1.AssetRegistered // decoded, for the raw insert baseline
}

// assetsService is the bus name of the assets service: subjects houqin.assets.…, stream
// HOUQIN_ASSETS, the stream the ledger projection reads.
const assetsService = "assets"

func newCorpus(n int) (*corpus, error) {
	type template struct {
		school string
		m      *eventsv1.AssetRegistered
	}
	var templates []template
	for _, s := range demo.Schools {
		for _, r := range demo.Assets(s) {
			templates = append(templates, template{school: s.ID, m: &eventsv1.AssetRegistered{
				SchoolId: s.ID, Name: r.Name, Category: r.Category, Model: r.Model, UnitPriceFen: r.UnitPriceFen,
				Quantity: r.Quantity, AcquiredOn: r.AcquiredOn, Source: "purchase", FundingSource: r.FundingSource,
				Location: r.Location, Department: r.Department, Custodian: r.Custodian, Tag: r.Tag}})
		}
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, err
	}
	c := &corpus{events: make([]event.Event, n), payloads: make([]*eventsv1.AssetRegistered, n)}
	now := time.Now().Truncate(time.Microsecond)
	for i := range n {
		t := templates[i%len(templates)]
		m := proto.Clone(t.m).(*eventsv1.AssetRegistered)
		m.AssetId = uuid.Must(uuid.NewV7()).String()
		// Each pass over the catalogue gets its own tags, as a school's tags are unique.
		m.Tag = fmt.Sprintf("%s-%d", t.m.Tag, i/len(templates))
		acquired, err := time.ParseInLocation(domain.DateLayout, m.AcquiredOn, loc)
		if err != nil {
			return nil, err
		}
		policy := domain.DefaultPolicies.At(acquired)
		m.FixedAsset = m.UnitPriceFen >= policy.CapitalisationThresholdFen
		e, err := newEvent(m, t.school, acquired, now, policy.Version, i)
		if err != nil {
			return nil, err
		}
		c.events[i], c.payloads[i] = e, m
	}
	return c, nil
}

func newEvent(m *eventsv1.AssetRegistered, school string, occurred, recorded time.Time, policy string, i int) (event.Event, error) {
	payload, err := event.Marshal(m)
	if err != nil {
		return event.Event{}, err
	}
	e := event.Event{
		ID: uuid.Must(uuid.NewV7()), StreamID: event.StreamID("asset", m.AssetId), StreamType: "asset", Version: 1,
		SchoolID: school, Type: event.TypeOf(m), Payload: payload, OccurredAt: occurred, RecordedAt: recorded,
		Actor: "bench-logistics_director-" + school, CorrelationID: fmt.Sprintf("bench-req-%08d", i),
		TraceParent: fmt.Sprintf("00-%032x-%016x-01", i+1, i+1), PolicyVersion: policy, PrevHash: event.GenesisHash,
	}
	e.Hash = e.ComputeHash(e.PrevHash)
	return e, nil
}

// subject is the bus subject of e when service publishes it.
func subject(service string, e event.Event) string {
	s, err := event.Subject(service, e.SchoolID, e.StreamType, e.Type)
	if err != nil {
		panic(err) // the corpus only holds valid schools and types
	}
	return s
}
