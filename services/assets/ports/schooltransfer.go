package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// RequestSchoolTransfer implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RequestSchoolTransfer(ctx context.Context, r *assetsv1.RequestSchoolTransferRequest) (*assetsv1.RequestSchoolTransferResponse, error) {
	id, v, err := s.app.RequestSchoolTransfer(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.RequestSchoolTransfer{ToSchool: strings.TrimSpace(r.ToSchoolId), Reason: strings.TrimSpace(r.Reason),
			ToLocation: strings.TrimSpace(r.ToLocation), ToDepartment: strings.TrimSpace(r.ToDepartment),
			ToCustodian: strings.TrimSpace(r.ToCustodian)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RequestSchoolTransferResponse{TransferId: id, Version: v}, nil
}

// ApproveSchoolTransfer implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ApproveSchoolTransfer(ctx context.Context, r *assetsv1.ApproveSchoolTransferRequest) (*assetsv1.ApproveSchoolTransferResponse, error) {
	res, err := s.app.ApproveSchoolTransfer(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.TransferId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.ApproveSchoolTransferResponse{ToAssetId: res.ToAssetID, ToTag: res.ToTag, Version: res.Version,
		RegistrationPending: res.Pending}, nil
}

// RejectSchoolTransfer implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RejectSchoolTransfer(ctx context.Context, r *assetsv1.RejectSchoolTransferRequest) (*assetsv1.RejectSchoolTransferResponse, error) {
	v, err := s.app.RejectSchoolTransfer(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.TransferId,
		strings.TrimSpace(r.Reason))
	if err != nil {
		return nil, err
	}
	return &assetsv1.RejectSchoolTransferResponse{Version: v}, nil
}
