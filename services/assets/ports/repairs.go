package ports

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/assets/readmodel"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// RepairsServer implements assetsv1.RepairsServiceServer.
type RepairsServer struct {
	assetsv1.UnimplementedRepairsServiceServer
	app *app.Repairs
}

// NewRepairsServer returns the gRPC server of the repair use cases.
func NewRepairsServer(a *app.Repairs) *RepairsServer { return &RepairsServer{app: a} }

var (
	severities = map[assetsv1.RepairSeverity]string{
		assetsv1.RepairSeverity_REPAIR_SEVERITY_MINOR:     domain.SeverityMinor,
		assetsv1.RepairSeverity_REPAIR_SEVERITY_MAJOR:     domain.SeverityMajor,
		assetsv1.RepairSeverity_REPAIR_SEVERITY_EMERGENCY: domain.SeverityEmergency,
	}
	assigneeKinds = map[assetsv1.RepairAssigneeKind]string{
		assetsv1.RepairAssigneeKind_REPAIR_ASSIGNEE_KIND_SCHOOL_WORKER:  "school_worker",
		assetsv1.RepairAssigneeKind_REPAIR_ASSIGNEE_KIND_OUTSIDE_VENDOR: "outside_vendor",
	}
	delayReasons = map[assetsv1.RepairDelayReason]string{
		assetsv1.RepairDelayReason_REPAIR_DELAY_REASON_OUTSIDE_VENDOR:    "outside_vendor",
		assetsv1.RepairDelayReason_REPAIR_DELAY_REASON_WAITING_FOR_PARTS: "waiting_for_parts",
		assetsv1.RepairDelayReason_REPAIR_DELAY_REASON_OTHER:             "other",
	}
	repairStatuses = map[assetsv1.RepairStatus]string{
		assetsv1.RepairStatus_REPAIR_STATUS_REPORTED:    domain.RepairReported,
		assetsv1.RepairStatus_REPAIR_STATUS_DISPATCHED:  domain.RepairDispatched,
		assetsv1.RepairStatus_REPAIR_STATUS_IN_PROGRESS: domain.RepairInProgress,
		assetsv1.RepairStatus_REPAIR_STATUS_COMPLETED:   domain.RepairCompleted,
	}
)

// enumOf returns the enum value mapped to s (the zero value if none).
func enumOf[E comparable](m map[E]string, s string) E {
	for k, v := range m {
		if v == s {
			return k
		}
	}
	var zero E
	return zero
}

// ReportRepair implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) ReportRepair(ctx context.Context, r *assetsv1.ReportRepairRequest) (*assetsv1.ReportRepairResponse, error) {
	id, v, err := s.app.Report(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.ReportRepair{
		Location: strings.TrimSpace(r.Location), AssetID: strings.TrimSpace(r.AssetId), ClassName: strings.TrimSpace(r.ClassName),
		Description: strings.TrimSpace(r.Description), PhotoRef: strings.TrimSpace(r.PhotoRef), Severity: severities[r.Severity]})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ReportRepairResponse{RepairId: id, Version: v}, nil
}

// DispatchRepair implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) DispatchRepair(ctx context.Context, r *assetsv1.DispatchRepairRequest) (*assetsv1.DispatchRepairResponse, error) {
	v, err := s.app.Dispatch(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RepairId, r.ExpectedVersion,
		domain.DispatchRepair{AssigneeKind: assigneeKinds[r.AssigneeKind], Assignee: strings.TrimSpace(r.Assignee), Note: strings.TrimSpace(r.Note)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.DispatchRepairResponse{RepairId: r.RepairId, Version: v}, nil
}

// StartRepair implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) StartRepair(ctx context.Context, r *assetsv1.StartRepairRequest) (*assetsv1.StartRepairResponse, error) {
	v, err := s.app.Start(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RepairId, r.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	return &assetsv1.StartRepairResponse{RepairId: r.RepairId, Version: v}, nil
}

// RecordRepairDelayReason implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) RecordRepairDelayReason(ctx context.Context, r *assetsv1.RecordRepairDelayReasonRequest) (*assetsv1.RecordRepairDelayReasonResponse, error) {
	v, err := s.app.RecordDelayReason(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RepairId, r.ExpectedVersion,
		domain.RecordDelayReason{Reason: delayReasons[r.Reason], Note: strings.TrimSpace(r.Note)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RecordRepairDelayReasonResponse{RepairId: r.RepairId, Version: v}, nil
}

// CompleteRepair implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) CompleteRepair(ctx context.Context, r *assetsv1.CompleteRepairRequest) (*assetsv1.CompleteRepairResponse, error) {
	v, within, err := s.app.Complete(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RepairId, r.ExpectedVersion,
		domain.CompleteRepair{WorkDone: strings.TrimSpace(r.WorkDone), CostFen: r.CostFen})
	if err != nil {
		return nil, err
	}
	return &assetsv1.CompleteRepairResponse{RepairId: r.RepairId, Version: v, FixedWithinTarget: within}, nil
}

// GetRepair implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) GetRepair(ctx context.Context, r *assetsv1.GetRepairRequest) (*assetsv1.GetRepairResponse, error) {
	rep, v, err := s.app.Get(ctx, r.SchoolId, r.RepairId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.GetRepairResponse{Repair: fromRepair(rep, v)}, nil
}

// ListRepairs implements assetsv1.RepairsServiceServer.
func (s *RepairsServer) ListRepairs(ctx context.Context, r *assetsv1.ListRepairsRequest) (*assetsv1.ListRepairsResponse, error) {
	reps, vs, err := s.app.List(ctx, r.SchoolId, readmodel.RepairFilter{AssetID: strings.TrimSpace(r.AssetId),
		ClassName: strings.TrimSpace(r.ClassName), Limit: int(r.Limit)})
	if err != nil {
		return nil, err
	}
	out := &assetsv1.ListRepairsResponse{}
	for i, rep := range reps {
		out.Repairs = append(out.Repairs, fromRepair(rep, vs[i]))
	}
	return out, nil
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromRepair(r domain.Repair, version int64) *assetsv1.Repair {
	return &assetsv1.Repair{RepairId: r.ID, SchoolId: r.SchoolID, Location: r.Location, AssetId: r.AssetID, AssetTag: r.AssetTag,
		ClassName: r.ClassName, Description: r.Description, PhotoRef: r.PhotoRef, Severity: enumOf(severities, r.Severity),
		Status:       enumOf(repairStatuses, r.Status),
		ReportedAt:   stamp(r.ReportedAt),
		OnSiteDueAt:  stamp(r.OnSiteDue),
		FixDueAt:     stamp(r.FixDue),
		AssigneeKind: enumOf(assigneeKinds, r.AssigneeKind),
		Assignee:     r.Assignee,
		StartedAt:    stamp(r.StartedAt),
		CompletedAt:  stamp(r.CompletedAt),
		WorkDone:     r.WorkDone, CostFen: r.CostFen, DelayReason: enumOf(delayReasons, r.DelayReason), DelayNote: r.DelayNote,
		Breached: r.Breached, Version: version}
}
