package domain

import (
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// DistrictCategories are the classes the district added to the assets service's category
// tree, as procurement learned them from the assets stream (code → name). Evolve updates the
// map in place: a folded state belongs to one fold.
type DistrictCategories struct {
	Names map[string]string
}

// EvolveDistrictCategories folds one event.
func EvolveDistrictCategories(s DistrictCategories, m proto.Message) DistrictCategories {
	if e, ok := m.(*eventsv1.AssetCategoryLearned); ok {
		if s.Names == nil {
			s.Names = map[string]string{}
		}
		s.Names[e.Code] = e.Name
	}
	return s
}

// LearnCategory records a class the district added in the assets service.
type LearnCategory struct {
	Code, Parent, Name, SourceEventID string
}

// DecideLearnCategory decides LearnCategory: a class known already (learned before, or
// built in) records nothing.
func DecideLearnCategory(s DistrictCategories, builtIn Catalogue, c LearnCategory) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "code", c.Code, 1, 20, "code")
	text(&v, "name", c.Name, 1, 60, "name")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, ok := s.Names[c.Code]; ok {
		return nil, nil
	}
	if _, ok := builtIn.Categories[c.Code]; ok {
		return nil, nil
	}
	return []proto.Message{&eventsv1.AssetCategoryLearned{Code: c.Code, Parent: c.Parent, Name: c.Name, SourceEventId: c.SourceEventID}}, nil
}

// Knows reports whether every category is in the catalogue.
func (c Catalogue) Knows(categories ...string) bool {
	for _, x := range categories {
		if _, ok := c.Categories[x]; !ok {
			return false
		}
	}
	return true
}

// With returns the catalogue with the district's classes added as fixed-asset categories (the
// assets service's classification is of fixed assets); built-in entries win.
func (c Catalogue) With(d DistrictCategories) Catalogue {
	out := Catalogue{Categories: make(map[string]string, len(c.Categories)+len(d.Names)),
		FixedAssetCategories: make(map[string]bool, len(c.FixedAssetCategories)+len(d.Names))}
	for k, v := range d.Names {
		out.Categories[k], out.FixedAssetCategories[k] = v, true
	}
	for k, v := range c.Categories {
		out.Categories[k] = v
	}
	for k, v := range c.FixedAssetCategories {
		out.FixedAssetCategories[k] = v
	}
	return out
}
