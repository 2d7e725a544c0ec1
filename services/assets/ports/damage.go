package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// DamageServer implements assetsv1.DamageServiceServer.
type DamageServer struct {
	assetsv1.UnimplementedDamageServiceServer
	app *app.App
}

// NewDamageServer returns the gRPC server of damage charges (损坏赔偿).
func NewDamageServer(a *app.App) *DamageServer { return &DamageServer{app: a} }

var liableKinds = map[assetsv1.LiableKind]string{
	assetsv1.LiableKind_LIABLE_KIND_PERSON: domain.LiablePerson,
	assetsv1.LiableKind_LIABLE_KIND_CLASS:  domain.LiableClass,
}

// ChargeDamage implements assetsv1.DamageServiceServer.
func (s *DamageServer) ChargeDamage(ctx context.Context, r *assetsv1.ChargeDamageRequest) (*assetsv1.ChargeDamageResponse, error) {
	d, v, err := s.app.ChargeDamage(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, domain.ChargeDamage{
		LiableKind: liableKinds[r.LiableKind], Liable: strings.TrimSpace(r.Liable), ClassName: strings.TrimSpace(r.ClassName),
		AmountFen: r.AmountFen, Description: strings.TrimSpace(r.Description), Intentional: r.Intentional, DamagedOn: r.DamagedOn})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ChargeDamageResponse{ChargeId: d.ID, AmountFen: d.AmountFen, Version: v}, nil
}

// RecordDamagePayment implements assetsv1.DamageServiceServer.
func (s *DamageServer) RecordDamagePayment(ctx context.Context, r *assetsv1.RecordDamagePaymentRequest) (*assetsv1.RecordDamagePaymentResponse, error) {
	d, v, err := s.app.RecordDamagePayment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ChargeId, r.ExpectedVersion,
		domain.RecordDamagePayment{AmountFen: r.AmountFen, ReceiptNo: strings.TrimSpace(r.ReceiptNo)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RecordDamagePaymentResponse{Version: v, OutstandingFen: d.Outstanding(), Status: damageStatus(d)}, nil
}

// WaiveDamage implements assetsv1.DamageServiceServer.
func (s *DamageServer) WaiveDamage(ctx context.Context, r *assetsv1.WaiveDamageRequest) (*assetsv1.WaiveDamageResponse, error) {
	d, v, err := s.app.WaiveDamage(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ChargeId, r.ExpectedVersion,
		domain.WaiveDamage{Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.WaiveDamageResponse{Version: v, WaivedFen: d.WaivedFen}, nil
}

// GetDamageCharge implements assetsv1.DamageServiceServer.
func (s *DamageServer) GetDamageCharge(ctx context.Context, r *assetsv1.GetDamageChargeRequest) (*assetsv1.GetDamageChargeResponse, error) {
	d, v, err := s.app.GetDamageCharge(ctx, r.SchoolId, r.ChargeId)
	if err != nil {
		return nil, err
	}
	kind := assetsv1.LiableKind_LIABLE_KIND_UNSPECIFIED
	for k, x := range liableKinds {
		if x == d.LiableKind {
			kind = k
		}
	}
	return &assetsv1.GetDamageChargeResponse{Charge: &assetsv1.DamageCharge{ChargeId: d.ID, AssetId: d.AssetID, Tag: d.Tag,
		AssetName: d.AssetName, LiableKind: kind, Liable: d.Liable, ClassName: d.ClassName, AmountFen: d.AmountFen,
		PaidFen: d.PaidFen, WaivedFen: d.WaivedFen, OutstandingFen: d.Outstanding(), Status: damageStatus(d),
		WaiverReason: d.WaiverReason, DamagedOn: d.DamagedOn, Version: v}}, nil
}

func damageStatus(d domain.DamageCharge) assetsv1.DamageStatus {
	switch d.Status() {
	case domain.DamageSettled:
		return assetsv1.DamageStatus_DAMAGE_STATUS_SETTLED
	case domain.DamagePartiallyPaid:
		return assetsv1.DamageStatus_DAMAGE_STATUS_PARTIALLY_PAID
	}
	return assetsv1.DamageStatus_DAMAGE_STATUS_OPEN
}
