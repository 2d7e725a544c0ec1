package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/assets/holdings"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// LendingServer implements assetsv1.LendingServiceServer.
type LendingServer struct {
	assetsv1.UnimplementedLendingServiceServer
	app      *app.App
	holdings holdings.Reader
}

// NewLendingServer returns the gRPC server of lending (借还).
func NewLendingServer(a *app.App, h holdings.Reader) *LendingServer {
	return &LendingServer{app: a, holdings: h}
}

// IssueOffCampusPermit implements assetsv1.LendingServiceServer.
func (s *LendingServer) IssueOffCampusPermit(ctx context.Context, r *assetsv1.IssueOffCampusPermitRequest) (*assetsv1.IssueOffCampusPermitResponse, error) {
	id, v, err := s.app.IssueOffCampusPermit(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId,
		domain.IssueOffCampusPermit{Holder: strings.TrimSpace(r.Holder), ValidUntil: r.ValidUntil, Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.IssueOffCampusPermitResponse{PermitId: id, Version: v}, nil
}

// LendAsset implements assetsv1.LendingServiceServer.
func (s *LendingServer) LendAsset(ctx context.Context, r *assetsv1.LendAssetRequest) (*assetsv1.LendAssetResponse, error) {
	id, v, err := s.app.LendAsset(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.LendAsset{Borrower: strings.TrimSpace(r.Borrower), BorrowerStaffNo: strings.TrimSpace(r.BorrowerStaffNo), DueOn: r.DueOn, OffCampus: r.OffCampus,
			PermitID: strings.TrimSpace(r.PermitId), Purpose: strings.TrimSpace(r.Purpose)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.LendAssetResponse{LoanId: id, Version: v}, nil
}

// ReturnAsset implements assetsv1.LendingServiceServer.
func (s *LendingServer) ReturnAsset(ctx context.Context, r *assetsv1.ReturnAssetRequest) (*assetsv1.ReturnAssetResponse, error) {
	e, v, err := s.app.ReturnAsset(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.ReturnAsset{Condition: strings.TrimSpace(r.Condition)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ReturnAssetResponse{LoanId: e.GetLoanId(), Version: v, DaysOverdue: e.GetDaysOverdue()}, nil
}

// ListOverdueLoans implements assetsv1.LendingServiceServer.
func (s *LendingServer) ListOverdueLoans(ctx context.Context, r *assetsv1.ListOverdueLoansRequest) (*assetsv1.ListOverdueLoansResponse, error) {
	asOf, err := s.app.AsOf(r.AsOf)
	if err != nil {
		return nil, err
	}
	loans, err := s.holdings.OverdueLoans(ctx, r.SchoolId, asOf)
	if err != nil {
		return nil, err
	}
	out := &assetsv1.ListOverdueLoansResponse{AsOf: domain.FormatDay(asOf)}
	for _, l := range loans {
		pl := &assetsv1.Loan{LoanId: l.LoanID, AssetId: l.AssetID, Tag: l.Tag, Name: l.Name, Borrower: l.Borrower,
			LentOn: domain.FormatDay(l.LentOn), DueOn: domain.FormatDay(l.DueOn), OffCampus: l.OffCampus,
			DaysOverdue: domain.DaysBetween(l.DueOn, asOf)}
		if l.ReturnedOn != nil {
			pl.ReturnedOn = domain.FormatDay(*l.ReturnedOn)
		}
		out.Loans = append(out.Loans, pl)
	}
	return out, nil
}
