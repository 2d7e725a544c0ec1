// Package domain holds the assets service's rules (校产管理): pure types, deciders and evolvers.
// It imports nothing from the outside world; time and policy are passed in.
package domain

// Category is a class of the fixed-asset classification (固定资产分类).
type Category struct {
	Code string
	// Name in Chinese, as printed on ledgers.
	Name string
	// LifeYears is the minimum depreciation life (政府会计准则第3号 应用指南); 0 = never
	// depreciated (cultural relics, books and archives, animals and plants).
	LifeYears int
}

// DefaultCategories are the top levels of GB/T 14885 (固定资产分类与代码) shipped to every
// district; districts extend them.
var DefaultCategories = []Category{
	{Code: "1", Name: "土地、房屋及构筑物", LifeYears: 50},
	{Code: "2", Name: "通用设备", LifeYears: 6},
	{Code: "3", Name: "专用设备", LifeYears: 10},
	{Code: "4", Name: "文物和陈列品", LifeYears: 0},
	{Code: "5", Name: "图书、档案", LifeYears: 0},
	{Code: "6", Name: "家具、用具、装具及动植物", LifeYears: 15},
}

// CategoryName returns the Chinese name of a category code, or the code itself.
func CategoryName(code string) string {
	for _, c := range DefaultCategories {
		if c.Code == code {
			return c.Name
		}
	}
	return code
}

func knownCategory(code string) bool {
	for _, c := range DefaultCategories {
		if c.Code == code {
			return true
		}
	}
	return false
}
