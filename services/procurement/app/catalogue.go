package app

import (
	"context"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/event"
	"houqin.dev/platform/reactor"
	"houqin.dev/procurement/domain"
	assetseventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// CategoriesAggregate holds the classes the district added in the assets service, as
// procurement learned them: one district-wide stream, asset_categories:district.
var CategoriesAggregate = es.Aggregate[domain.DistrictCategories]{Type: "asset_categories",
	Initial: func() domain.DistrictCategories { return domain.DistrictCategories{} }, Evolve: domain.EvolveDistrictCategories}

// ReactorLearnCategories is the assets → procurement process manager of category classes.
const ReactorLearnCategories = "procurement-learn-categories"

func (a *App) districtCategories() *es.Handler[domain.DistrictCategories] {
	return es.NewHandler(a.store, CategoriesAggregate, a.retries, a.now)
}

// LearnCategory records a class the district added in the assets service (idempotent on the
// code).
func (a *App) LearnCategory(ctx context.Context, meta es.Meta, c domain.LearnCategory) error {
	meta.SchoolID = district.SchoolID
	_, err := a.districtCategories().Execute(ctx, meta, es.Command[domain.DistrictCategories]{ID: district.SchoolID,
		Decide: func(s domain.DistrictCategories) (es.Decision, error) {
			ev, err := domain.DecideLearnCategory(s, a.catalogue, c)
			return es.Decision{Events: ev}, err
		}})
	return err
}

// catalogueFor is the catalogue that knows categories: the built-in one when it does, else
// with the district's learned classes (read from their stream, so a class learned a moment
// ago counts).
func (a *App) catalogueFor(ctx context.Context, categories ...string) (domain.Catalogue, error) {
	if a.catalogue.Knows(categories...) {
		return a.catalogue, nil
	}
	d, _, err := a.districtCategories().Load(ctx, district.SchoolID, district.SchoolID)
	if _, none := errs.As[*errs.NotFoundError](err); none {
		return a.catalogue, nil
	}
	if err != nil {
		return domain.Catalogue{}, err
	}
	return a.catalogue.With(d), nil
}

// OnCategoryAdded is the assets → procurement process manager of the category tree: a class
// the bureau adds (LedgerService.AddCategory) becomes a purchase category. Its request id is
// derived from the event, so a redelivery records nothing new.
func (a *App) OnCategoryAdded(ctx context.Context, e event.Event, m proto.Message) error {
	ca := m.(*assetseventsv1.CategoryAdded)
	err := a.LearnCategory(ctx, reactionMeta(e, "learn-category", ca.Code), domain.LearnCategory{Code: ca.Code, Parent: ca.Parent,
		Name: ca.Name, SourceEventID: e.ID.String()})
	if _, ok := errs.As[*errs.InvalidError](err); ok {
		return reactor.Permanent(err)
	}
	return err
}
