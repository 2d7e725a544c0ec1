package app

import (
	"context"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
)

// CategoryTreeAggregate is the district's category tree: the shipped defaults plus the
// bureau's changes, in one stream ("category_tree:district").
var CategoryTreeAggregate = es.Aggregate[domain.CategoryTree]{Type: "category_tree",
	Initial: domain.DefaultCategoryTree, Evolve: domain.EvolveCategoryTree}

func (a *App) districtMeta(meta es.Meta) es.Meta {
	meta.SchoolID = district.SchoolID
	return meta
}

// AddCategory adds a district sub-class.
func (a *App) AddCategory(ctx context.Context, meta es.Meta, c domain.AddCategory) (int64, error) {
	if err := a.districtMeta(meta).Validate(); err != nil {
		_, derr := domain.DecideAddCategory(domain.DefaultCategoryTree(), c)
		return 0, alsoInvalid(err, derr)
	}
	res, err := a.categories.Execute(ctx, a.districtMeta(meta), es.Command[domain.CategoryTree]{ID: district.SchoolID,
		Decide: func(t domain.CategoryTree) (es.Decision, error) {
			ev, err := domain.DecideAddCategory(t, c)
			return es.Decision{Events: ev}, err
		}})
	a.forgetCategories()
	return res.Version, err
}

// SetCategoryLife sets a class's life from a date on.
func (a *App) SetCategoryLife(ctx context.Context, meta es.Meta, c domain.SetCategoryLife) (int64, error) {
	if err := a.districtMeta(meta).Validate(); err != nil {
		_, derr := domain.DecideSetCategoryLife(domain.DefaultCategoryTree(), c)
		return 0, alsoInvalid(err, derr)
	}
	res, err := a.categories.Execute(ctx, a.districtMeta(meta), es.Command[domain.CategoryTree]{ID: district.SchoolID,
		Decide: func(t domain.CategoryTree) (es.Decision, error) {
			ev, err := domain.DecideSetCategoryLife(t, c)
			return es.Decision{Events: ev}, err
		}})
	a.forgetCategories()
	return res.Version, err
}

// Categories returns the district's category tree as it is now.
func (a *App) Categories(ctx context.Context) (domain.CategoryTree, error) {
	return a.categoryTree(ctx, "")
}

// categoryTree returns the tree, from the cache when it is fresh and knows code.
func (a *App) categoryTree(ctx context.Context, code string) (domain.CategoryTree, error) {
	if t, ok := a.cats.get(district.SchoolID); ok {
		if _, known := t.Get(code); known || code == "" {
			return t, nil
		}
	}
	t, _, err := a.categories.Load(ctx, district.SchoolID, district.SchoolID)
	if _, missing := errs.As[*errs.NotFoundError](err); missing {
		t, err = domain.DefaultCategoryTree(), nil // no district change yet
	}
	if err != nil {
		return domain.CategoryTree{}, err
	}
	a.cats.put(district.SchoolID, t)
	return t, nil
}

func (a *App) forgetCategories() { a.cats.forget(district.SchoolID) }
