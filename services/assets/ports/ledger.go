package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// LedgerServer implements assetsv1.LedgerServiceServer.
type LedgerServer struct {
	assetsv1.UnimplementedLedgerServiceServer
	app *app.App
}

// NewLedgerServer returns the gRPC ledger server of a.
func NewLedgerServer(a *app.App) *LedgerServer { return &LedgerServer{app: a} }

// AddCategory implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddCategory(ctx context.Context, r *assetsv1.AddCategoryRequest) (*assetsv1.AddCategoryResponse, error) {
	v, err := s.app.AddCategory(ctx, grpckit.Meta(ctx, r.RequestId, "", r), domain.AddCategory{
		Code: strings.TrimSpace(r.Code), Parent: strings.TrimSpace(r.Parent), Name: strings.TrimSpace(r.Name),
		LifeMonths: int(r.LifeMonths), NeverDepreciated: r.NeverDepreciated, EffectiveFrom: r.EffectiveFrom})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddCategoryResponse{Version: v}, nil
}

// SetCategoryLife implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) SetCategoryLife(ctx context.Context, r *assetsv1.SetCategoryLifeRequest) (*assetsv1.SetCategoryLifeResponse, error) {
	v, err := s.app.SetCategoryLife(ctx, grpckit.Meta(ctx, r.RequestId, "", r), domain.SetCategoryLife{
		Code: strings.TrimSpace(r.Code), LifeMonths: int(r.LifeMonths), EffectiveFrom: r.EffectiveFrom})
	if err != nil {
		return nil, err
	}
	return &assetsv1.SetCategoryLifeResponse{Version: v}, nil
}

// ListCategories implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ListCategories(ctx context.Context, r *assetsv1.ListCategoriesRequest) (*assetsv1.ListCategoriesResponse, error) {
	t, err := s.app.Categories(ctx)
	if err != nil {
		return nil, err
	}
	out := &assetsv1.ListCategoriesResponse{}
	for _, c := range t.All() {
		pc := &assetsv1.Category{Code: c.Code, Parent: c.Parent, Name: c.Name, NeverDepreciated: c.NeverDepreciated}
		for _, l := range c.Lives {
			pc.Lives = append(pc.Lives, &assetsv1.CategoryLife{EffectiveFrom: l.EffectiveFrom.Format(domain.DateLayout),
				Months: int32(l.Months), Version: c.LifeVersion(l)})
		}
		out.Categories = append(out.Categories, pc)
	}
	return out, nil
}
