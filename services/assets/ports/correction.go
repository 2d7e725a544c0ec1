package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// CorrectRegistration implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) CorrectRegistration(ctx context.Context, r *assetsv1.CorrectRegistrationRequest) (*assetsv1.CorrectRegistrationResponse, error) {
	v, err := s.app.CorrectRegistration(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.CorrectRegistration{Reason: strings.TrimSpace(r.Reason), Name: strings.TrimSpace(r.Name), Category: r.Category,
			Model: strings.TrimSpace(r.Model), UnitPriceFen: r.UnitPriceFen, Quantity: r.Quantity, AcquiredOn: r.AcquiredOn,
			FundingSource: strings.TrimSpace(r.FundingSource)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.CorrectRegistrationResponse{Version: v}, nil
}

// ReverseRegistration implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ReverseRegistration(ctx context.Context, r *assetsv1.ReverseRegistrationRequest) (*assetsv1.ReverseRegistrationResponse, error) {
	v, err := s.app.ReverseRegistration(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		strings.TrimSpace(r.Reason))
	if err != nil {
		return nil, err
	}
	return &assetsv1.ReverseRegistrationResponse{Version: v}, nil
}
