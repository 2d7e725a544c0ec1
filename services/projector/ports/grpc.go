// Package ports serves the reports over gRPC.
package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/projector/custody"
	"houqin.dev/projector/eventlog"
	"houqin.dev/projector/ledger"
	"houqin.dev/projector/loans"
	"houqin.dev/projector/procurement"
	"houqin.dev/projector/repairs"
	"houqin.dev/projector/stocktakes"
	"houqin.dev/projector/writeoffs"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Server implements reportsv1.ReportsServiceServer.
type Server struct {
	reportsv1.UnimplementedReportsServiceServer
	Ledger  ledger.Reader
	Events  eventlog.Reader
	Repairs repairs.Reader
	Loans   loans.Reader
	Custody custody.Reader
	// WriteOffs reads the write-offs read model.
	WriteOffs writeoffs.Reader
	Loc       *time.Location
	Now       func() time.Time

	// Procurement reads the procurement read model.
	Procurement procurement.Reader
	// Stocktakes reads the stocktake read model.
	Stocktakes stocktakes.Reader
}

// today is the district's date.
func (s *Server) today() time.Time {
	n := s.Now().In(s.Loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// GetAssetLedger implements reportsv1.ReportsServiceServer.
func (s *Server) GetAssetLedger(ctx context.Context, r *reportsv1.GetAssetLedgerRequest) (*reportsv1.GetAssetLedgerResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, cats, ok, err := s.Ledger.SchoolLedger(ctx, r.SchoolId, asOf)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFound("school", r.SchoolId)
	}
	out := &reportsv1.GetAssetLedgerResponse{SchoolId: sc.ID, SchoolName: sc.Name, AsOf: asOf.Format(domain.DateLayout),
		Entries: sc.Entries, Quantity: sc.Quantity, ValueFen: sc.ValueFen, Drill: drill(ReportLedger, "", asOf)}
	for _, c := range cats {
		out.Categories = append(out.Categories, &reportsv1.CategoryTotal{Category: c.Category, CategoryName: c.Name,
			Entries: c.Entries, Quantity: c.Quantity, ValueFen: c.ValueFen, Drill: drill(ReportLedgerCategory, c.Category, asOf)})
	}
	return out, nil
}

// GetDistrictLedger implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictLedger(ctx context.Context, r *reportsv1.GetDistrictLedgerRequest) (*reportsv1.GetDistrictLedgerResponse, error) {
	var v errs.Violations
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	schools, err := s.Ledger.District(ctx, asOf)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetDistrictLedgerResponse{AsOf: asOf.Format(domain.DateLayout)}
	for _, sc := range schools {
		out.Schools = append(out.Schools, &reportsv1.SchoolLedger{SchoolId: sc.ID, Name: sc.Name, Kind: sc.Kind,
			Boarding: sc.Boarding, Entries: sc.Entries, Quantity: sc.Quantity, ValueFen: sc.ValueFen,
			Drill: drill(ReportLedger, "", asOf)})
		out.Entries += sc.Entries
		out.Quantity += sc.Quantity
		out.ValueFen += sc.ValueFen
	}
	return out, nil
}

// ReportDistrictLedger prefixes the drill of a district group (district_ledger_<dimension>):
// GetDistrictLedgerBreakdown given its key lists the group's schools, whose rows drill to
// ListEvents.
const ReportDistrictLedger = "district_ledger"

// GetDistrictLedgerBreakdown implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictLedgerBreakdown(ctx context.Context, r *reportsv1.GetDistrictLedgerBreakdownRequest) (*reportsv1.GetDistrictLedgerBreakdownResponse, error) {
	var v errs.Violations
	if !ledger.ValidDistrictDimension(r.Dimension) {
		v.Add("dimension", "分组须为 school | category | status | school_kind / unknown dimension")
	}
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	schools, err := s.Ledger.Schools(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := s.Ledger.Entries(ctx, "", asOf, s.endOf(asOf))
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetDistrictLedgerBreakdownResponse{AsOf: asOf.Format(domain.DateLayout), Dimension: r.Dimension, Key: r.Key}
	for _, g := range ledger.DistrictBreakdown(entries, schools, r.Dimension, r.Key, asOf) {
		row := &reportsv1.DistrictLedgerGroup{Key: g.Key, Name: g.Label, Entries: g.Entries, Quantity: g.Quantity,
			ValueFen: g.ValueFen, AccumulatedDepreciationFen: g.AccumulatedDepreciationFen, NetBookValueFen: g.NetBookValueFen}
		switch {
		case r.Key != "": // the group's part at one school: its entries there
			row.Key, row.Name, row.SchoolId, row.SchoolName = r.Key, ledger.DistrictLabel(schools, r.Dimension, r.Key), g.Key, g.Label
			row.Drill = drill(ReportLedger+"_"+r.Dimension, r.Key, asOf)
			if r.Dimension == "school" || r.Dimension == "school_kind" {
				row.Drill = drill(ReportLedger, "", asOf)
			}
		case r.Dimension == "school": // a school: all its entries
			row.SchoolId, row.SchoolName = g.Key, g.Label
			row.Drill = drill(ReportLedger, "", asOf)
		default:
			row.Drill = drill(ReportDistrictLedger+"_"+r.Dimension, g.Key, asOf)
		}
		out.Groups = append(out.Groups, row)
		out.Entries += g.Entries
		out.Quantity += g.Quantity
		out.ValueFen += g.ValueFen
		out.AccumulatedDepreciationFen += g.AccumulatedDepreciationFen
		out.NetBookValueFen += g.NetBookValueFen
	}
	return out, nil
}

// GetLedgerBreakdown implements reportsv1.ReportsServiceServer.
func (s *Server) GetLedgerBreakdown(ctx context.Context, r *reportsv1.GetLedgerBreakdownRequest) (*reportsv1.GetLedgerBreakdownResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	if !ledger.ValidDimension(r.Dimension) {
		v.Add("dimension", "分组须为 category | location | department | custodian | status / unknown dimension")
	}
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sc, _, ok, err := s.Ledger.SchoolLedger(ctx, r.SchoolId, asOf)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFound("school", r.SchoolId)
	}
	entries, err := s.Ledger.Entries(ctx, r.SchoolId, asOf, s.endOf(asOf))
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetLedgerBreakdownResponse{SchoolId: sc.ID, SchoolName: sc.Name, AsOf: asOf.Format(domain.DateLayout),
		Dimension: r.Dimension, Drill: drill(ReportLedger, "", asOf)}
	for _, g := range ledger.Breakdown(entries, r.Dimension, asOf) {
		out.Groups = append(out.Groups, &reportsv1.LedgerGroup{Key: g.Key, Name: g.Label, Entries: g.Entries, Quantity: g.Quantity,
			ValueFen: g.ValueFen, AccumulatedDepreciationFen: g.AccumulatedDepreciationFen, NetBookValueFen: g.NetBookValueFen,
			Drill: drill(ReportLedger+"_"+r.Dimension, g.Key, asOf)})
		out.Entries += g.Entries
		out.Quantity += g.Quantity
		out.ValueFen += g.ValueFen
		out.AccumulatedDepreciationFen += g.AccumulatedDepreciationFen
		out.NetBookValueFen += g.NetBookValueFen
	}
	return out, nil
}
