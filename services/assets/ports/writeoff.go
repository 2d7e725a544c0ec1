package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

var writeOffKinds = map[assetsv1.WriteOffKind]string{
	assetsv1.WriteOffKind_WRITE_OFF_KIND_SCRAP: "scrap", assetsv1.WriteOffKind_WRITE_OFF_KIND_LOSS: "loss",
}

var disposalMethods = map[assetsv1.DisposalMethod]string{
	assetsv1.DisposalMethod_DISPOSAL_METHOD_AUCTION: "auction", assetsv1.DisposalMethod_DISPOSAL_METHOD_RECYCLE: "recycle",
	assetsv1.DisposalMethod_DISPOSAL_METHOD_DESTROY: "destroy", assetsv1.DisposalMethod_DISPOSAL_METHOD_DONATE: "donate",
	assetsv1.DisposalMethod_DISPOSAL_METHOD_OTHER: "other",
}

// approver is the caller as an approver: the token's subject and roles.
func approver(ctx context.Context) domain.Approver {
	id, _ := auth.FromContext(ctx)
	who := domain.Approver{Subject: id.Subject}
	for _, r := range id.Roles {
		who.Roles = append(who.Roles, string(r))
	}
	return who
}

// RequestWriteOff implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RequestWriteOff(ctx context.Context, r *assetsv1.RequestWriteOffRequest) (*assetsv1.RequestWriteOffResponse, error) {
	e, v, err := s.app.RequestWriteOff(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.RequestWriteOff{Kind: writeOffKinds[r.Kind], Reason: strings.TrimSpace(r.Reason), ResidualFen: r.ResidualValueFen})
	if err != nil {
		return nil, err
	}
	out := &assetsv1.RequestWriteOffResponse{Version: v}
	if e != nil {
		out.WriteOffId, out.Tier, out.Steps, out.PolicyVersion = e.WriteOffId, e.Tier, e.Steps, e.PolicyVersion
	}
	return out, nil
}

// ApproveWriteOff implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ApproveWriteOff(ctx context.Context, r *assetsv1.ApproveWriteOffRequest) (*assetsv1.ApproveWriteOffResponse, error) {
	step, done, v, err := s.app.ApproveWriteOff(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.WriteOffId,
		approver(ctx), strings.TrimSpace(r.Comment))
	if err != nil {
		return nil, err
	}
	return &assetsv1.ApproveWriteOffResponse{Step: step, WrittenOff: done, Version: v}, nil
}

// RejectWriteOff implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RejectWriteOff(ctx context.Context, r *assetsv1.RejectWriteOffRequest) (*assetsv1.RejectWriteOffResponse, error) {
	v, err := s.app.RejectWriteOff(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.WriteOffId,
		approver(ctx), strings.TrimSpace(r.Reason))
	if err != nil {
		return nil, err
	}
	return &assetsv1.RejectWriteOffResponse{Version: v}, nil
}

// RecordWriteOffDisposal implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RecordWriteOffDisposal(ctx context.Context, r *assetsv1.RecordWriteOffDisposalRequest) (*assetsv1.RecordWriteOffDisposalResponse, error) {
	v, err := s.app.RecordWriteOffDisposal(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, domain.RecordDisposal{
		WriteOffID: r.WriteOffId, Method: disposalMethods[r.Method], ProceedsFen: r.ProceedsFen, DisposedOn: r.DisposedOn,
		Note: strings.TrimSpace(r.Note)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RecordWriteOffDisposalResponse{Version: v}, nil
}
