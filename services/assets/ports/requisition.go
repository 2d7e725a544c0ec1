package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// RequisitionServer implements assetsv1.RequisitionServiceServer.
type RequisitionServer struct {
	assetsv1.UnimplementedRequisitionServiceServer
	app *app.App
}

// NewRequisitionServer returns the gRPC server of requisitions (申领/领用).
func NewRequisitionServer(a *app.App) *RequisitionServer { return &RequisitionServer{app: a} }

func lineAmounts(ls []*assetsv1.LineAmount) (domain.LineAmounts, error) {
	out := domain.LineAmounts{}
	for _, l := range ls {
		if _, dup := out[l.Line]; dup {
			return nil, errs.Invalid("lines", "同一项重复 / a line appears twice")
		}
		out[l.Line] = l.Quantity
	}
	return out, nil
}

// SubmitRequisition implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) SubmitRequisition(ctx context.Context, r *assetsv1.SubmitRequisitionRequest) (*assetsv1.SubmitRequisitionResponse, error) {
	c := domain.SubmitRequisition{Requester: strings.TrimSpace(r.Requester), RequesterStaffNo: strings.TrimSpace(r.RequesterStaffNo), Department: strings.TrimSpace(r.Department),
		Purpose: strings.TrimSpace(r.Purpose)}
	for _, it := range r.Items {
		c.Lines = append(c.Lines, domain.RequisitionLine{Item: strings.TrimSpace(it.Item), Unit: strings.TrimSpace(it.Unit),
			Requested: it.Quantity, Returnable: it.Returnable})
	}
	id, v, err := s.app.SubmitRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), c)
	if err != nil {
		return nil, err
	}
	return &assetsv1.SubmitRequisitionResponse{RequisitionId: id, Version: v}, nil
}

// ApproveRequisition implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) ApproveRequisition(ctx context.Context, r *assetsv1.ApproveRequisitionRequest) (*assetsv1.ApproveRequisitionResponse, error) {
	ls, err := lineAmounts(r.Lines)
	if err != nil {
		return nil, err
	}
	v, err := s.app.ApproveRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, r.ExpectedVersion,
		domain.ApproveRequisition{Lines: ls})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ApproveRequisitionResponse{Version: v}, nil
}

// RejectRequisition implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) RejectRequisition(ctx context.Context, r *assetsv1.RejectRequisitionRequest) (*assetsv1.RejectRequisitionResponse, error) {
	v, err := s.app.RejectRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, r.ExpectedVersion,
		domain.RejectRequisition{Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RejectRequisitionResponse{Version: v}, nil
}

// IssueRequisition implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) IssueRequisition(ctx context.Context, r *assetsv1.IssueRequisitionRequest) (*assetsv1.IssueRequisitionResponse, error) {
	ls, err := lineAmounts(r.Lines)
	if err != nil {
		return nil, err
	}
	v, err := s.app.IssueRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, r.ExpectedVersion,
		domain.IssueRequisition{Lines: ls})
	if err != nil {
		return nil, err
	}
	return &assetsv1.IssueRequisitionResponse{Version: v}, nil
}

// ReturnIssuedItems implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) ReturnIssuedItems(ctx context.Context, r *assetsv1.ReturnIssuedItemsRequest) (*assetsv1.ReturnIssuedItemsResponse, error) {
	ls, err := lineAmounts(r.Lines)
	if err != nil {
		return nil, err
	}
	v, err := s.app.ReturnIssuedItems(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, r.ExpectedVersion,
		domain.ReturnIssuedItems{Lines: ls})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ReturnIssuedItemsResponse{Version: v}, nil
}

var requisitionStatus = map[string]assetsv1.RequisitionStatus{
	domain.RequisitionSubmitted: assetsv1.RequisitionStatus_REQUISITION_STATUS_SUBMITTED,
	domain.RequisitionApproved:  assetsv1.RequisitionStatus_REQUISITION_STATUS_APPROVED,
	domain.RequisitionRejected:  assetsv1.RequisitionStatus_REQUISITION_STATUS_REJECTED,
	domain.RequisitionIssued:    assetsv1.RequisitionStatus_REQUISITION_STATUS_ISSUED,
}

// GetRequisition implements assetsv1.RequisitionServiceServer.
func (s *RequisitionServer) GetRequisition(ctx context.Context, r *assetsv1.GetRequisitionRequest) (*assetsv1.GetRequisitionResponse, error) {
	q, v, err := s.app.GetRequisition(ctx, r.SchoolId, r.RequisitionId)
	if err != nil {
		return nil, err
	}
	out := &assetsv1.Requisition{RequisitionId: q.ID, Requester: q.Requester, Department: q.Department, Purpose: q.Purpose,
		Status: requisitionStatus[q.Status()], RejectReason: q.RejectReason, Version: v}
	for _, l := range q.Lines {
		out.Items = append(out.Items, &assetsv1.RequisitionItem{Line: l.Line, Item: l.Item, Unit: l.Unit, Returnable: l.Returnable,
			Requested: l.Requested, Approved: l.Approved, Issued: l.Issued, Returned: l.Returned})
	}
	return &assetsv1.GetRequisitionResponse{Requisition: out}, nil
}
