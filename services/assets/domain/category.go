// Package domain holds the assets service's rules (校产管理): pure types, deciders and evolvers.
// It imports nothing from the outside world; time and policy are passed in.
package domain

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Category is a class of the fixed-asset classification (固定资产分类, GB/T 14885): the
// district's tree is the shipped top levels and sub-classes plus what the bureau adds.
type Category struct {
	Code string
	// Parent is the code of the parent class; empty for a top level.
	Parent string
	// Name in Chinese, as printed on ledgers.
	Name string
	// NeverDepreciated: cultural relics, books and archives, animals and plants (不计提折旧).
	NeverDepreciated bool
	// Lives is the depreciation life history, oldest first: policy data with effective dates.
	Lives []Life
}

// Life is a category's depreciation life from a date.
type Life struct {
	EffectiveFrom time.Time
	Months        int
}

// Version names the life on events and decisions: "<code>@<effective date>".
func (c Category) LifeVersion(l Life) string {
	return c.Code + "@" + l.EffectiveFrom.Format(DateLayout)
}

// LifeAt returns the depreciation life in months in force on day and its version; 0 months for
// a class that is never depreciated.
func (c Category) LifeAt(day time.Time) (months int, version string) {
	if c.NeverDepreciated || len(c.Lives) == 0 {
		return 0, c.Code + "@never"
	}
	l := c.Lives[0]
	for _, x := range c.Lives {
		if !x.EffectiveFrom.After(day) {
			l = x
		}
	}
	return l.Months, c.LifeVersion(l)
}

// CategoryTree is the district's category tree.
type CategoryTree struct {
	byCode map[string]Category
}

// lives2017: the lives of 政府会计准则第3号 应用指南 (财会〔2017〕4号), in force 2017-01-01.
var lives2017 = date(2017, 1, 1)

func years(n int) []Life { return []Life{{EffectiveFrom: lives2017, Months: n * 12}} }

// DefaultCategories are the top levels of GB/T 14885 (固定资产分类与代码) and the sub-classes
// whose lives the national guide sets, shipped to every district; districts extend them
// (AddCategory) and change lives from a date (SetCategoryLife).
var DefaultCategories = []Category{
	{Code: "1", Name: "土地、房屋及构筑物", Lives: years(50)},
	{Code: "101", Parent: "1", Name: "房屋（钢筋混凝土结构）", Lives: years(50)},
	{Code: "102", Parent: "1", Name: "房屋（砖混结构）", Lives: years(30)},
	{Code: "2", Name: "通用设备", Lives: years(6)},
	{Code: "201", Parent: "2", Name: "计算机设备", Lives: years(6)},
	{Code: "202", Parent: "2", Name: "办公设备", Lives: years(6)},
	{Code: "203", Parent: "2", Name: "车辆", Lives: years(8)},
	{Code: "204", Parent: "2", Name: "图书档案设备", Lives: years(5)},
	{Code: "205", Parent: "2", Name: "机械设备", Lives: years(10)},
	{Code: "206", Parent: "2", Name: "电气设备", Lives: years(5)},
	{Code: "3", Name: "专用设备", Lives: years(10)},
	{Code: "4", Name: "文物和陈列品", NeverDepreciated: true},
	{Code: "5", Name: "图书、档案", NeverDepreciated: true},
	{Code: "6", Name: "家具、用具、装具及动植物", Lives: years(15)},
	{Code: "601", Parent: "6", Name: "家具、用具及装具", Lives: years(15)},
	{Code: "602", Parent: "6", Name: "动植物", NeverDepreciated: true},
}

// DefaultCategoryTree is the tree before any district change.
func DefaultCategoryTree() CategoryTree {
	t := CategoryTree{byCode: make(map[string]Category, len(DefaultCategories))}
	for _, c := range DefaultCategories {
		t.byCode[c.Code] = c
	}
	return t
}

// Get returns the category with code.
func (t CategoryTree) Get(code string) (Category, bool) {
	c, ok := t.byCode[code]
	return c, ok
}

// All returns every category, ordered by code.
func (t CategoryTree) All() []Category {
	out := make([]Category, 0, len(t.byCode))
	for _, c := range t.byCode {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// TopLevel returns the top-level code of a category code (codes extend their parent's).
func TopLevel(code string) string {
	if code == "" {
		return ""
	}
	return code[:1]
}

// CategoryName returns the Chinese name of a default category code, or the code itself.
func CategoryName(code string) string {
	if c, ok := DefaultCategoryTree().Get(code); ok {
		return c.Name
	}
	return code
}

// EvolveCategoryTree folds one event into the tree. The tree's map is rebuilt on change, so a
// tree once handed out never changes under its holder.
func EvolveCategoryTree(t CategoryTree, m proto.Message) CategoryTree {
	switch e := m.(type) {
	case *eventsv1.CategoryAdded:
		from, _ := time.Parse(DateLayout, e.EffectiveFrom)
		c := Category{Code: e.Code, Parent: e.Parent, Name: e.Name, NeverDepreciated: e.NeverDepreciated}
		if !e.NeverDepreciated {
			c.Lives = []Life{{EffectiveFrom: from, Months: int(e.LifeMonths)}}
		}
		t = t.with(c)
	case *eventsv1.CategoryLifeSet:
		if c, ok := t.byCode[e.Code]; ok {
			from, _ := time.Parse(DateLayout, e.EffectiveFrom)
			c.Lives = append(append([]Life(nil), c.Lives...), Life{EffectiveFrom: from, Months: int(e.LifeMonths)})
			t = t.with(c)
		}
	}
	return t
}

func (t CategoryTree) with(c Category) CategoryTree {
	n := CategoryTree{byCode: make(map[string]Category, len(t.byCode)+1)}
	for k, v := range t.byCode {
		n.byCode[k] = v
	}
	n.byCode[c.Code] = c
	return n
}

// Reasons of category refusals.
const (
	// 分类代码已存在.
	ReasonCategoryExists errs.Reason = "CATEGORY_ALREADY_EXISTS"
	// 上级分类不存在.
	ReasonCategoryParentUnknown errs.Reason = "CATEGORY_PARENT_UNKNOWN"
	// 分类不存在.
	ReasonCategoryUnknown errs.Reason = "CATEGORY_UNKNOWN"
	// A class under a never-depreciated class is never depreciated either.
	ReasonCategoryParentNotDepreciated errs.Reason = "CATEGORY_PARENT_NOT_DEPRECIATED"
	// A never-depreciated class has no life to set.
	ReasonCategoryNotDepreciated errs.Reason = "CATEGORY_NOT_DEPRECIATED"
	// Lives are a history: a new one starts after the latest.
	ReasonLifeNotAfterLatest errs.Reason = "LIFE_NOT_AFTER_LATEST"
)

// MaxLifeMonths bounds a depreciation life (100 years).
const MaxLifeMonths = 1200

// AddCategory 新增分类: a district sub-class under an existing class.
type AddCategory struct {
	Code             string
	Parent           string
	Name             string
	LifeMonths       int
	NeverDepreciated bool
	EffectiveFrom    string // YYYY-MM-DD: the life's effective date
}

// DecideAddCategory decides AddCategory.
func DecideAddCategory(t CategoryTree, c AddCategory) ([]proto.Message, error) {
	var v errs.Violations
	if !digits(c.Code, 2, 12) {
		v.Add("code", "分类代码须为2–12位数字 / code must be 2–12 digits")
	} else if c.Parent != "" && (!strings.HasPrefix(c.Code, c.Parent) || len(c.Code) != len(c.Parent)+2) {
		v.Add("code", "分类代码须为上级代码加两位数字 / code must be the parent's code and two more digits")
	}
	if c.Parent == "" {
		v.Add("parent", "必填：只能在已有分类下新增 / required: classes are added under an existing class")
	}
	if n := utf8.RuneCountInString(c.Name); n < 2 || n > 60 {
		v.Add("name", "名称须为2–60个字 / name must be 2–60 characters")
	}
	if c.NeverDepreciated {
		if c.LifeMonths != 0 {
			v.Add("life_months", "不计提折旧的分类没有折旧年限 / a never-depreciated class has no life")
		}
	} else if c.LifeMonths < 1 || c.LifeMonths > MaxLifeMonths {
		v.Addf("life_months", "折旧月数须为1–%d / life must be 1–%d months", MaxLifeMonths, MaxLifeMonths)
	}
	if _, err := time.Parse(DateLayout, c.EffectiveFrom); err != nil {
		v.Add("effective_from", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	parent, ok := t.Get(c.Parent)
	if !ok {
		return nil, errs.Rule(ReasonCategoryParentUnknown, "上级分类不存在 / the parent class does not exist", "parent", c.Parent)
	}
	if _, ok := t.Get(c.Code); ok {
		return nil, errs.Rule(ReasonCategoryExists, "分类代码已存在 / the class exists already", "code", c.Code)
	}
	if parent.NeverDepreciated && !c.NeverDepreciated {
		return nil, errs.Rule(ReasonCategoryParentNotDepreciated,
			"上级分类不计提折旧，下级分类也不计提 / under a never-depreciated class, classes are never depreciated", "parent", c.Parent)
	}
	return []proto.Message{&eventsv1.CategoryAdded{Code: c.Code, Parent: c.Parent, Name: c.Name,
		LifeMonths: int32(c.LifeMonths), NeverDepreciated: c.NeverDepreciated, EffectiveFrom: c.EffectiveFrom}}, nil
}

// SetCategoryLife 调整折旧年限: a class's life from a date on. Assets registered before keep
// the life recorded on their registration.
type SetCategoryLife struct {
	Code          string
	LifeMonths    int
	EffectiveFrom string
}

// DecideSetCategoryLife decides SetCategoryLife.
func DecideSetCategoryLife(t CategoryTree, c SetCategoryLife) ([]proto.Message, error) {
	var v errs.Violations
	if c.Code == "" {
		v.Add("code", "必填 / code is required")
	}
	if c.LifeMonths < 1 || c.LifeMonths > MaxLifeMonths {
		v.Addf("life_months", "折旧月数须为1–%d / life must be 1–%d months", MaxLifeMonths, MaxLifeMonths)
	}
	from, err := time.Parse(DateLayout, c.EffectiveFrom)
	if err != nil {
		v.Add("effective_from", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cat, ok := t.Get(c.Code)
	if !ok {
		return nil, errs.Rule(ReasonCategoryUnknown, "分类不存在 / the class does not exist", "code", c.Code)
	}
	if cat.NeverDepreciated {
		return nil, errs.Rule(ReasonCategoryNotDepreciated, "该分类不计提折旧 / the class is never depreciated", "code", c.Code)
	}
	if n := len(cat.Lives); n > 0 && !from.After(cat.Lives[n-1].EffectiveFrom) {
		return nil, errs.Rule(ReasonLifeNotAfterLatest, "新年限须晚于现行年限的生效日期 / a new life must start after the latest one",
			"latest", cat.Lives[n-1].EffectiveFrom.Format(DateLayout))
	}
	return []proto.Message{&eventsv1.CategoryLifeSet{Code: c.Code, LifeMonths: int32(c.LifeMonths), EffectiveFrom: c.EffectiveFrom}}, nil
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
