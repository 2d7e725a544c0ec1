package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// CustodyServer implements assetsv1.CustodyServiceServer.
type CustodyServer struct {
	assetsv1.UnimplementedCustodyServiceServer
	app *app.App
}

// NewCustodyServer returns the gRPC server of custody agreements (保管责任书).
func NewCustodyServer(a *app.App) *CustodyServer { return &CustodyServer{app: a} }

var unitKinds = map[assetsv1.UnitKind]string{
	assetsv1.UnitKind_UNIT_KIND_ROOM:  domain.UnitRoom,
	assetsv1.UnitKind_UNIT_KIND_CLASS: domain.UnitClass,
}

var signPhases = map[assetsv1.SignPhase]string{
	assetsv1.SignPhase_SIGN_PHASE_START: domain.PhaseStart,
	assetsv1.SignPhase_SIGN_PHASE_END:   domain.PhaseEnd,
}

// DrawUpCustodyAgreement implements assetsv1.CustodyServiceServer.
func (s *CustodyServer) DrawUpCustodyAgreement(ctx context.Context, r *assetsv1.DrawUpCustodyAgreementRequest) (*assetsv1.DrawUpCustodyAgreementResponse, error) {
	id, n, v, err := s.app.DrawUpCustodyAgreement(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetIds,
		domain.DrawUpCustodyAgreement{Term: strings.TrimSpace(r.Term), UnitKind: unitKinds[r.UnitKind],
			Unit: strings.TrimSpace(r.Unit), Head: strings.TrimSpace(r.Head)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.DrawUpCustodyAgreementResponse{AgreementId: id, ItemCount: n, Version: v}, nil
}

// SignCustodyAgreement implements assetsv1.CustodyServiceServer.
func (s *CustodyServer) SignCustodyAgreement(ctx context.Context, r *assetsv1.SignCustodyAgreementRequest) (*assetsv1.SignCustodyAgreementResponse, error) {
	v, err := s.app.SignCustodyAgreement(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AgreementId, r.ExpectedVersion,
		domain.SignCustodyAgreement{Phase: signPhases[r.Phase], SignedBy: strings.TrimSpace(r.SignedBy)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.SignCustodyAgreementResponse{Version: v}, nil
}

// RecheckCustodyAgreement implements assetsv1.CustodyServiceServer.
func (s *CustodyServer) RecheckCustodyAgreement(ctx context.Context, r *assetsv1.RecheckCustodyAgreementRequest) (*assetsv1.RecheckCustodyAgreementResponse, error) {
	c, v, err := s.app.RecheckCustodyAgreement(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AgreementId, r.ExpectedVersion,
		domain.RecheckCustodyAgreement{FoundAssetIDs: r.FoundAssetIds, CheckedBy: strings.TrimSpace(r.CheckedBy)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RecheckCustodyAgreementResponse{Version: v, Findings: findings(c.Findings)}, nil
}

// GetCustodyAgreement implements assetsv1.CustodyServiceServer.
func (s *CustodyServer) GetCustodyAgreement(ctx context.Context, r *assetsv1.GetCustodyAgreementRequest) (*assetsv1.GetCustodyAgreementResponse, error) {
	c, v, err := s.app.GetCustodyAgreement(ctx, r.SchoolId, r.AgreementId)
	if err != nil {
		return nil, err
	}
	kind := assetsv1.UnitKind_UNIT_KIND_UNSPECIFIED
	for k, x := range unitKinds {
		if x == c.UnitKind {
			kind = k
		}
	}
	return &assetsv1.GetCustodyAgreementResponse{Agreement: &assetsv1.CustodyAgreement{AgreementId: c.ID, Term: c.Term,
		UnitKind: kind, Unit: c.Unit, Head: c.Head, AssetIds: c.AssetIDs, Status: custodyStatus[c.Status()],
		SignedAtStartOn: c.SignedAtStartOn, SignedAtEndOn: c.SignedAtEndOn, RecheckedOn: c.RecheckedOn,
		Findings: findings(c.Findings), Version: v}}, nil
}

var custodyStatus = map[string]assetsv1.CustodyStatus{
	domain.CustodyDrawnUp:   assetsv1.CustodyStatus_CUSTODY_STATUS_DRAWN_UP,
	domain.CustodySigned:    assetsv1.CustodyStatus_CUSTODY_STATUS_SIGNED,
	domain.CustodyRechecked: assetsv1.CustodyStatus_CUSTODY_STATUS_RECHECKED,
	domain.CustodyClosed:    assetsv1.CustodyStatus_CUSTODY_STATUS_CLOSED,
}

func findings(fs []*eventsv1.CustodyFinding) []*assetsv1.CustodyFinding {
	out := make([]*assetsv1.CustodyFinding, 0, len(fs))
	for _, f := range fs {
		out = append(out, &assetsv1.CustodyFinding{AssetId: f.AssetId, Tag: f.Tag, Name: f.Name, Kind: f.Kind, LedgerLocation: f.LedgerLocation})
	}
	return out
}
