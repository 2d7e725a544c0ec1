package app

import (
	"context"

	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// assetCommand runs a lending command on the asset's stream: the optimistic lock keeps one
// open loan per asset. It returns the stored events and the new version.
func (a *App) assetCommand(ctx context.Context, meta es.Meta, assetID string, expected int64,
	decide func(domain.Asset, domain.CustodyPolicy) ([]proto.Message, error)) ([]proto.Message, int64, error) {
	return a.assetCommandKeys(ctx, meta, assetID, expected, nil, decide)
}

// assetCommandKeys is assetCommand claiming keys with the events.
func (a *App) assetCommandKeys(ctx context.Context, meta es.Meta, assetID string, expected int64, keys []eventstore.UniqueKey,
	decide func(domain.Asset, domain.CustodyPolicy) ([]proto.Message, error)) ([]proto.Message, int64, error) {
	if err := parseID("asset_id", assetID); err != nil {
		return nil, 0, err
	}
	if err := checkExpected(expected); err != nil {
		return nil, 0, err
	}
	p := a.custodyPolicy(a.today())
	var decided []proto.Message
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := decide(s, p)
			decided = ev
			return es.Decision{Events: ev, PolicyVersion: p.Version, UniqueKeys: keys}, err
		}})
	if err != nil {
		return nil, 0, err
	}
	evs, err := a.appended(ctx, res.Outcome, res.Repeated, decided)
	return evs, res.Version, err
}

// IssueOffCampusPermit 出校许可; returns the permit id.
func (a *App) IssueOffCampusPermit(ctx context.Context, meta es.Meta, assetID string, c domain.IssueOffCampusPermit) (string, int64, error) {
	c.PermitID = derivedID(meta)
	evs, v, err := a.assetCommand(ctx, meta, assetID, 0, func(s domain.Asset, p domain.CustodyPolicy) ([]proto.Message, error) {
		return domain.DecideIssueOffCampusPermit(s, c, a.today(), p)
	})
	if err != nil {
		return "", 0, err
	}
	e, _ := first[*eventsv1.OffCampusPermitIssued](evs)
	return e.GetPermitId(), v, nil
}

// LendAsset 借出; returns the loan id. The loan claims the borrower's next holder version, so
// it and the completion of the borrower's clearance cannot both be decided on the same
// holdings (see asHolder).
func (a *App) LendAsset(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.LendAsset) (string, int64, error) {
	c.LoanID = derivedID(meta)
	var evs []proto.Message
	var v int64
	var campus domain.Campus
	who := c.Borrower // the holder: by staff number once the school has a directory
	if meta.Validate() == nil {
		school, err := a.schoolWith(ctx, meta.SchoolID, "", nil, person{c.Borrower, c.BorrowerStaffNo, domain.FormatDay(a.today())})
		if err != nil {
			return "", 0, err
		}
		campus = school.Campus
		if st, err := campus.Person("", "", c.Borrower, c.BorrowerStaffNo, domain.FormatDay(a.today())); err == nil && st.No != "" {
			who = st.No
		}
	}
	err := a.asHolder(ctx, meta.SchoolID, who, func(h holder) error {
		c.BorrowerCleared = h.cleared
		var keys []eventstore.UniqueKey
		if h.next.Scope != "" {
			keys = []eventstore.UniqueKey{h.next}
		}
		var err error
		evs, v, err = a.assetCommandKeys(ctx, meta, assetID, expected, keys, func(s domain.Asset, p domain.CustodyPolicy) ([]proto.Message, error) {
			return domain.DecideLendAsset(s, c, campus, a.today(), p)
		})
		return err
	})
	if err != nil {
		return "", 0, err
	}
	e, _ := first[*eventsv1.AssetLent](evs)
	return e.GetLoanId(), v, nil
}

// ReturnAsset 归还; returns the ended loan's event.
func (a *App) ReturnAsset(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.ReturnAsset) (*eventsv1.AssetReturned, int64, error) {
	evs, v, err := a.assetCommand(ctx, meta, assetID, expected, func(s domain.Asset, _ domain.CustodyPolicy) ([]proto.Message, error) {
		return domain.DecideReturnAsset(s, c, a.today())
	})
	if err != nil {
		return nil, 0, err
	}
	e, _ := first[*eventsv1.AssetReturned](evs)
	return e, v, nil
}
