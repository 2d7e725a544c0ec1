// Package ports serves the assets service over gRPC: requests become domain commands,
// results become responses. Authorisation and error mapping happen in the platform's
// interceptors.
package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// Server implements assetsv1.AssetsServiceServer.
type Server struct {
	assetsv1.UnimplementedAssetsServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

// RegisterSchool implements assetsv1.AssetsServiceServer.
func (s *Server) RegisterSchool(ctx context.Context, r *assetsv1.RegisterSchoolRequest) (*assetsv1.RegisterSchoolResponse, error) {
	res, err := s.app.RegisterSchool(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.RegisterSchool{
		SchoolID: r.SchoolId, Name: r.Name, Kind: schoolKind(r.Kind), Boarding: r.Boarding})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RegisterSchoolResponse{SchoolId: r.SchoolId, Version: res.Version}, nil
}

// RegisterAsset implements assetsv1.AssetsServiceServer.
func (s *Server) RegisterAsset(ctx context.Context, r *assetsv1.RegisterAssetRequest) (*assetsv1.RegisterAssetResponse, error) {
	meta := grpckit.Meta(ctx, r.RequestId, r.SchoolId, r)
	meta.DryRun = r.ValidateOnly
	id, v, err := s.app.RegisterAsset(ctx, meta, toRegisterAsset(r))
	if err != nil {
		return nil, err
	}
	if r.ValidateOnly {
		return &assetsv1.RegisterAssetResponse{}, nil // the minted id was not used
	}
	return &assetsv1.RegisterAssetResponse{AssetId: id, Version: v}, nil
}

// TransferAsset implements assetsv1.AssetsServiceServer.
func (s *Server) TransferAsset(ctx context.Context, r *assetsv1.TransferAssetRequest) (*assetsv1.TransferAssetResponse, error) {
	v, err := s.app.TransferAsset(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.AssetId, r.ExpectedVersion,
		domain.TransferAsset{ToLocation: r.ToLocation, ToDepartment: r.ToDepartment, ToCustodian: r.ToCustodian,
			ToCustodianStaffNo: strings.TrimSpace(r.ToCustodianStaffNo), Reason: r.Reason})
	if err != nil {
		return nil, err
	}
	return &assetsv1.TransferAssetResponse{AssetId: r.AssetId, Version: v}, nil
}

// RegisterFromPurchaseLine implements assetsv1.AssetsServiceServer.
func (s *Server) RegisterFromPurchaseLine(ctx context.Context, r *assetsv1.RegisterFromPurchaseLineRequest) (*assetsv1.RegisterFromPurchaseLineResponse, error) {
	res, err := s.app.RegisterFromPurchaseLine(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.RegisterAsset{
		SchoolID: r.SchoolId, SourceLineID: strings.TrimSpace(r.SourceLineId), OrderID: strings.TrimSpace(r.OrderId),
		SupplierID: strings.TrimSpace(r.SupplierId), Name: strings.TrimSpace(r.Name), Category: r.Category,
		Model: strings.TrimSpace(r.Model), UnitPriceFen: r.UnitPriceFen, Quantity: r.Quantity, AcquiredOn: r.AcceptedOn,
		FundingSource: strings.TrimSpace(r.FundingSource), Location: strings.TrimSpace(r.Location),
		Department: strings.TrimSpace(r.Department), Custodian: strings.TrimSpace(r.Custodian)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RegisterFromPurchaseLineResponse{AssetId: res.AssetID, Tag: res.Tag, Version: res.Version,
		AlreadyRegistered: res.Already}, nil
}

// GetAsset implements assetsv1.AssetsServiceServer.
func (s *Server) GetAsset(ctx context.Context, r *assetsv1.GetAssetRequest) (*assetsv1.GetAssetResponse, error) {
	a, v, err := s.app.GetAsset(ctx, r.SchoolId, r.AssetId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.GetAssetResponse{Asset: fromAsset(a, v)}, nil
}

func toRegisterAsset(r *assetsv1.RegisterAssetRequest) domain.RegisterAsset {
	return domain.RegisterAsset{SchoolID: r.SchoolId, Tag: strings.TrimSpace(r.Tag), Name: strings.TrimSpace(r.Name),
		Category: r.Category, Model: strings.TrimSpace(r.Model), UnitPriceFen: r.UnitPriceFen, Quantity: r.Quantity,
		AcquiredOn: r.AcquiredOn, Source: source(r.Source), FundingSource: strings.TrimSpace(r.FundingSource),
		Location: strings.TrimSpace(r.Location), Department: strings.TrimSpace(r.Department),
		Custodian: strings.TrimSpace(r.Custodian), ExpectedUseMonths: int(r.ExpectedUseMonths),
		CustodianStaffNo: strings.TrimSpace(r.CustodianStaffNo)}
}

func fromAsset(a domain.Asset, version int64) *assetsv1.Asset {
	return &assetsv1.Asset{AssetId: a.ID, SchoolId: a.SchoolID, Tag: a.Tag, Name: a.Name, Category: a.Category,
		Model: a.Model, UnitPriceFen: a.UnitPriceFen, Quantity: a.Quantity, AcquiredOn: a.AcquiredOn,
		Source: sourceEnum(a.Source), FundingSource: a.FundingSource, Location: a.Location, Department: a.Department,
		Custodian: a.Custodian, Version: version, FixedAsset: a.FixedAsset, ExpectedUseMonths: int32(a.ExpectedUseMonths),
		DepreciationMonths: int32(a.DepreciationMonths), DepreciationStart: a.DepreciationStart}
}

var sources = map[assetsv1.AcquisitionSource]string{
	assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE:          "purchase",
	assetsv1.AcquisitionSource_ACQUISITION_SOURCE_DONATION:          "donation",
	assetsv1.AcquisitionSource_ACQUISITION_SOURCE_TRANSFER_IN:       "transfer_in",
	assetsv1.AcquisitionSource_ACQUISITION_SOURCE_SCHOOL_MERGER:     "school_merger",
	assetsv1.AcquisitionSource_ACQUISITION_SOURCE_STOCKTAKE_SURPLUS: domain.SourceStocktakeSurplus,
}

// source maps a request's source; a surplus (盘盈) enters only through an approved stocktake
// adjustment, never by a registration request.
func source(s assetsv1.AcquisitionSource) string {
	if s == assetsv1.AcquisitionSource_ACQUISITION_SOURCE_STOCKTAKE_SURPLUS {
		return ""
	}
	return sources[s]
}

func sourceEnum(s string) assetsv1.AcquisitionSource {
	for k, v := range sources {
		if v == s {
			return k
		}
	}
	return assetsv1.AcquisitionSource_ACQUISITION_SOURCE_UNSPECIFIED
}

var kinds = map[assetsv1.SchoolKind]string{
	assetsv1.SchoolKind_SCHOOL_KIND_KINDERGARTEN: "kindergarten",
	assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY:      "primary",
	assetsv1.SchoolKind_SCHOOL_KIND_MIDDLE:       "middle",
	assetsv1.SchoolKind_SCHOOL_KIND_HIGH:         "high",
	assetsv1.SchoolKind_SCHOOL_KIND_NINE_YEAR:    "nine_year",
}

func schoolKind(k assetsv1.SchoolKind) string { return kinds[k] }
