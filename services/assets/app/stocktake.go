package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// StocktakeAggregate is a stocktake session: stream "stocktake:<id>". A session grows by one
// event per scan (thousands), so its handler keeps sessions' states in memory and reads only
// what was appended since (es.Handler.WithCache).
var StocktakeAggregate = es.Aggregate[domain.Stocktake]{Type: "stocktake",
	Initial: func() domain.Stocktake { return domain.Stocktake{} }, Evolve: domain.EvolveStocktake}

// Stocktakes runs the stocktake use cases (清查/盘点).
type Stocktakes struct {
	app      *App
	store    *eventstore.Store
	sessions *es.Handler[domain.Stocktake]
	policies domain.StocktakePolicies
}

// StocktakeOptions tune the stocktake use cases.
type StocktakeOptions struct {
	// CachedSessions is how many sessions' states are kept in memory (0 or less: none, every
	// scan reads its whole session; for measurements).
	CachedSessions int
}

// NewStocktakes returns the stocktake use cases of a.
func NewStocktakes(a *App, store *eventstore.Store, o StocktakeOptions) *Stocktakes {
	h := es.NewHandler(store, StocktakeAggregate, 3, a.now)
	if o.CachedSessions > 0 {
		h = h.WithCache(o.CachedSessions)
	}
	return &Stocktakes{app: a, store: store, sessions: h, policies: domain.DefaultStocktakePolicies}
}

// Ledger returns the assets a school's ledger holds now, from the event store.
func (s *Stocktakes) Ledger(ctx context.Context, school string) ([]domain.Asset, error) {
	streams, err := s.store.LoadType(ctx, school, AssetAggregate.Type)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Asset, 0, len(streams))
	for _, st := range streams {
		a := AssetAggregate.Initial()
		for _, e := range st.Events {
			m, err := e.Decode()
			if err != nil {
				return nil, err
			}
			a = AssetAggregate.Evolve(a, m)
		}
		out = append(out, a)
	}
	return out, nil
}

// Start opens a session with the snapshot of the ledger as it stands.
func (s *Stocktakes) Start(ctx context.Context, meta es.Meta, c domain.StartStocktake) (string, int64, domain.Stocktake, error) {
	c.StocktakeID = uuid.Must(uuid.NewV7()).String()
	c.SchoolID = meta.SchoolID
	if err := errs.Join(meta.Validate(), domain.ValidateStartStocktake(c)); err != nil {
		return "", 0, domain.Stocktake{}, err
	}
	if err := s.app.requireSchool(ctx, meta.SchoolID); err != nil {
		return "", 0, domain.Stocktake{}, err
	}
	ledger, err := s.Ledger(ctx, meta.SchoolID)
	if err != nil {
		return "", 0, domain.Stocktake{}, err
	}
	var state domain.Stocktake
	res, err := s.sessions.Execute(ctx, meta, es.Command[domain.Stocktake]{ID: c.StocktakeID, New: true,
		Decide: func(st domain.Stocktake) (es.Decision, error) {
			now := s.app.now()
			ev, err := domain.DecideStartStocktake(st, c, ledger, now)
			state = st
			for _, e := range ev {
				state = domain.EvolveStocktake(state, e)
			}
			return es.Decision{Events: ev, OccurredAt: now}, err
		}})
	if err != nil {
		return "", 0, domain.Stocktake{}, err
	}
	id := strings.TrimPrefix(res.StreamID, StocktakeAggregate.Type+":")
	if res.Repeated {
		state, _, err = s.Get(ctx, meta.SchoolID, id)
	}
	return id, res.Version, state, err
}

// ScanResult is what a scan found.
type ScanResult struct {
	Version                             int64
	Outcome, AssetID, Tag, ExpectedRoom string
}

// Scan records one scan.
func (s *Stocktakes) Scan(ctx context.Context, meta es.Meta, id string, c domain.ScanItem) (ScanResult, error) {
	if err := validID("stocktake_id", id); err != nil {
		return ScanResult{}, err
	}
	var out ScanResult
	res, err := s.sessions.Execute(ctx, meta, es.Command[domain.Stocktake]{ID: id,
		Decide: func(st domain.Stocktake) (es.Decision, error) {
			if !st.Started {
				return es.Decision{}, errs.NotFound("stocktake", id)
			}
			now := s.app.now()
			ev, err := domain.DecideScanItem(st, c, now)
			if err == nil {
				out = scanResult(ev[0].(*eventsv1.StocktakeItemScanned), 0)
			}
			return es.Decision{Events: ev, OccurredAt: now}, err
		}})
	if err != nil {
		return ScanResult{}, err
	}
	if res.Repeated {
		// The first answer: the scan stored under this request id.
		return s.scanOutcome(ctx, meta.SchoolID, id, res.Version)
	}
	out.Version = res.Version
	return out, nil
}

func (s *Stocktakes) scanOutcome(ctx context.Context, school, id string, version int64) (ScanResult, error) {
	st, err := s.store.Load(ctx, StocktakeAggregate.Type+":"+id)
	if err != nil {
		return ScanResult{}, err
	}
	if version < 1 || int(version) > len(st.Events) || st.SchoolID != school {
		return ScanResult{}, errs.NotFound("stocktake", id)
	}
	m, err := st.Events[version-1].Decode()
	if err != nil {
		return ScanResult{}, err
	}
	e, ok := m.(*eventsv1.StocktakeItemScanned)
	if !ok {
		return ScanResult{}, errs.NotFound("stocktake scan", id)
	}
	return scanResult(e, version), nil
}

func scanResult(e *eventsv1.StocktakeItemScanned, version int64) ScanResult {
	return ScanResult{Version: version, Outcome: e.Outcome, AssetID: e.AssetId, Tag: e.Tag, ExpectedRoom: e.ExpectedRoom}
}

// Close ends a session and returns it as closed.
func (s *Stocktakes) Close(ctx context.Context, meta es.Meta, id string, expected int64) (domain.Stocktake, int64, error) {
	if err := errs.Join(validID("stocktake_id", id), expectedOK(expected)); err != nil {
		return domain.Stocktake{}, 0, err
	}
	_, err := s.sessions.Execute(ctx, meta, es.Command[domain.Stocktake]{ID: id, Expected: expected,
		Decide: func(st domain.Stocktake) (es.Decision, error) {
			now := s.app.now()
			ev, err := domain.DecideCloseStocktake(st, now)
			return es.Decision{Events: ev, OccurredAt: now}, err
		}})
	if err != nil {
		return domain.Stocktake{}, 0, err
	}
	return s.Get(ctx, meta.SchoolID, id)
}

// Get returns a session of school as it stands, and its version.
func (s *Stocktakes) Get(ctx context.Context, school, id string) (domain.Stocktake, int64, error) {
	if err := validID("stocktake_id", id); err != nil {
		return domain.Stocktake{}, 0, err
	}
	return s.sessions.Load(ctx, school, id)
}

// Propose proposes the adjustment of one difference of a closed session.
func (s *Stocktakes) Propose(ctx context.Context, meta es.Meta, id string, c domain.ProposeAdjustment) (string, int64, error) {
	if err := validID("stocktake_id", id); err != nil {
		return "", 0, err
	}
	var price int64
	if c.Kind == domain.AdjustmentShortage && c.AssetID != "" {
		if err := validID("asset_id", c.AssetID); err != nil {
			return "", 0, err
		}
		if a, _, err := s.app.GetAsset(ctx, meta.SchoolID, c.AssetID); err == nil {
			price = a.UnitPriceFen
		}
	}
	var adj string
	res, err := s.sessions.Execute(ctx, meta, es.Command[domain.Stocktake]{ID: id,
		Decide: func(st domain.Stocktake) (es.Decision, error) {
			ev, err := domain.DecideProposeAdjustment(st, c, price)
			if err == nil {
				adj = ev[0].(*eventsv1.StocktakeAdjustmentProposed).AdjustmentId
			}
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return "", 0, err
	}
	if res.Repeated {
		adj = domain.AdjustmentID(c.Kind, c.AssetID)
		if c.Kind == domain.AdjustmentSurplus {
			adj = domain.AdjustmentID(c.Kind, c.Code)
		}
	}
	return adj, res.Version, nil
}

// Approve approves an adjustment as role and makes the ledger reflect it: a shortage takes
// the asset off the ledger, a surplus registers the item found. The ledger's command has a
// request id derived from the session and the adjustment, so repeating the approval (after a
// failure between the two) completes it once.
func (s *Stocktakes) Approve(ctx context.Context, meta es.Meta, id, adjustmentID, role string) (int64, string, error) {
	if err := validID("stocktake_id", id); err != nil {
		return 0, "", err
	}
	policy := s.policies.At(s.app.now())
	res, err := s.sessions.Execute(ctx, meta, es.Command[domain.Stocktake]{ID: id,
		Decide: func(st domain.Stocktake) (es.Decision, error) {
			ev, err := domain.DecideApproveAdjustment(st, adjustmentID, meta.Actor, role, policy)
			return es.Decision{Events: ev, PolicyVersion: policy.Version}, err
		}})
	if err != nil {
		return 0, "", err
	}
	st, _, err := s.Get(ctx, meta.SchoolID, id)
	if err != nil {
		return 0, "", err
	}
	adj := st.Adjustments[adjustmentID]
	if adj == nil || !adj.Approved {
		return 0, "", errs.NotFound("stocktake adjustment", adjustmentID)
	}
	sum := sha256.Sum256([]byte(id + "/" + adjustmentID))
	ledger := es.Meta{RequestID: "stkadj-" + hex.EncodeToString(sum[:16]), SchoolID: meta.SchoolID, Actor: meta.Actor,
		CorrelationID: meta.CorrelationID, CausationID: id, TraceParent: meta.TraceParent, Fingerprint: sum[:]}
	if adj.Kind == domain.AdjustmentShortage {
		_, err := s.app.assets.Execute(ctx, ledger, es.Command[domain.Asset]{ID: adj.AssetID,
			Decide: func(a domain.Asset) (es.Decision, error) {
				if !a.Registered {
					return es.Decision{}, errs.NotFound("asset", adj.AssetID)
				}
				if !a.InLedger() {
					return es.Decision{}, nil
				}
				return es.Decision{Events: []proto.Message{&eventsv1.AssetRemovedByStocktake{AssetId: adj.AssetID,
					StocktakeId: id, AdjustmentId: adjustmentID, Reason: adj.Reason}}}, nil
			}})
		return res.Version, adj.AssetID, err
	}
	asset, _, err := s.app.RegisterAsset(ctx, ledger, domain.RegisterAsset{Tag: adj.Tag, Name: adj.Name, Category: adj.Category,
		UnitPriceFen: adj.UnitPriceFen, Quantity: 1, AcquiredOn: s.app.today().Format(domain.DateLayout),
		Source: domain.SourceStocktakeSurplus, Location: adj.Room, Custodian: adj.Custodian})
	return res.Version, asset, err
}
