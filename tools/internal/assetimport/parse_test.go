package assetimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"houqin.dev/assets/domain"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestParseFen(t *testing.T) {
	for in, want := range map[string]int64{"12800": 1280000, "12,800.00": 1280000, "¥1,280.5": 128050, "380元": 38000,
		"0.01": 1, "1280.4999999999998": 128050, "99.990000000000009": 9999, " 45 ": 4500, "１2": -1} {
		got, err := parseFen(in)
		if want < 0 {
			if err == nil {
				t.Errorf("%q accepted as %d", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12.345", "abc", "-5", "1.2.3", "1e5"} {
		if got, err := parseFen(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]int64{"45": 45, "1,200": 1200, "45套": 45, "3 台": 3, "2.0": 2} {
		if got, err := parseQuantity(in); err != nil || got != want {
			t.Errorf("%q = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2.5", "-1", "几个"} {
		if got, err := parseQuantity(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"2019-09-01": "2019-09-01", "2019/9/1": "2019-09-01", "2019.9.1": "2019-09-01",
		"2019年9月1日": "2019-09-01", "20190901": "2019-09-01", "2019-09-01 00:00:00": "2019-09-01",
		"43709": "2019-09-01", "43709.0": "2019-09-01", "2020/2/29": "2020-02-29"} {
		if got, err := parseDate(in); err != nil || got != want {
			t.Errorf("%q = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2019/2/30", "9/1/2019", "昨天", "19-9-1", "0"} {
		if got, err := parseDate(in); err == nil {
			t.Errorf("%q accepted as %s", in, got)
		}
	}
}

func TestParseCategoryAndSource(t *testing.T) {
	for in, want := range map[string]string{"2": "2", "通用设备": "2", "2 通用设备": "2", "家具、用具、装具及动植物": "6",
		"专用设备（3）": "3", "2010105": "201", "2990101": "2", "图书、档案": "5"} {
		if got, err := parseCategory(in, domain.DefaultCategoryTree()); err != nil || got != want {
			t.Errorf("category %q = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "9", "电器"} {
		if got, err := parseCategory(in, domain.DefaultCategoryTree()); err == nil {
			t.Errorf("category %q accepted as %s", in, got)
		}
	}
	for in, want := range map[string]string{"": "purchase", "购置": "purchase", "接受捐赠": "donation", "调入": "transfer_in",
		"学校合并": "school_merger", "Donation": "donation"} {
		if got, err := parseSource(in); err != nil || got != want {
			t.Errorf("source %q = %q, %v; want %s", in, got, err, want)
		}
	}
	// A class the bureau added: by its code, its name, or a deeper code under it.
	tree := domain.EvolveCategoryTree(domain.DefaultCategoryTree(), &eventsv1.CategoryAdded{Code: "207", Parent: "2",
		Name: "教学仪器", LifeMonths: 72, EffectiveFrom: "2017-01-01"})
	for in, want := range map[string]string{"207": "207", "教学仪器": "207", "2070105": "207", "通用设备": "2",
		"207 教学仪器": "207", "计算机设备": "201"} {
		if got, err := parseCategory(in, tree); err != nil || got != want {
			t.Errorf("district category %q = %q, %v; want %s", in, got, err, want)
		}
	}
	if got, _ := parseCategory("教学仪器", domain.DefaultCategoryTree()); got != "" {
		t.Errorf("a class the district does not have accepted as %q", got)
	}
	if _, err := parseSource("捡的"); err == nil {
		t.Error("unknown source accepted")
	}
}

// A ledger as schools keep it: a title row, headings with units and marks, a blank row and
// a 合计 line; Excel dates and numbers stored as numbers.
func TestReadXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "台帐.xlsx")
	f := excelize.NewFile()
	rows := [][]any{
		{"石牌中心小学固定资产台帐"},
		{"序号", "* 资产编号", "资产名称", "分类", "规格型号", "单价（元）", "数量", "金额(元)", "购置日期", "存放地点", "保管人", "备注"},
		{1, "ZC-001", "钢琴", "专用设备", "珠江 UP118", 18000, 1, 18000, 43709, "音乐室", "李老师", ""},
		{},
		{2, "ZC-002", "课桌椅", "6", "", "380.00", "45", "17,100", "2021/9/1", "三（2）班", "王老师", "成套"},
		{"合计", "", "", "", "", "", 46, 35100},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 2 || s.Rows[0].Line != 3 || s.Rows[1].Line != 5 {
		t.Fatalf("rows %+v", s.Rows)
	}
	if s.Heading(ColTag) != "* 资产编号" || s.Heading(ColUnitPrice) != "单价（元）" {
		t.Fatalf("headings %v", s.Headings)
	}
	req, bad := toRequest(s, s.Rows[0], "s1", domain.DefaultCategoryTree())
	if len(bad) > 0 || req.UnitPriceFen != 1800000 || req.AcquiredOn != "2019-09-01" || req.Category != "3" || req.Quantity != 1 {
		t.Fatalf("row 3: %v %v", req, bad)
	}
	req, bad = toRequest(s, s.Rows[1], "s1", domain.DefaultCategoryTree())
	if len(bad) > 0 || req.UnitPriceFen != 38000 || req.Quantity != 45 || req.AcquiredOn != "2021-09-01" || req.Category != "6" {
		t.Fatalf("row 5: %v %v", req, bad)
	}
}

func TestReadCSVInGBKAndMissingColumns(t *testing.T) {
	dir := t.TempDir()
	text := "资产编号,资产名称,分类代码,金额,数量,购置日期,存放地点,保管人\nZC-1,投影仪,2,\"9,000.00\",3,2019年9月1日,教学楼201,张老师\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gbk.csv")
	if err := os.WriteFile(path, []byte(gbk), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	req, bad := toRequest(s, s.Rows[0], "s1", domain.DefaultCategoryTree())
	if len(bad) > 0 || req.Name != "投影仪" || req.UnitPriceFen != 300000 || req.Quantity != 3 {
		t.Fatalf("row: %v %v", req, bad)
	}

	path = filepath.Join(dir, "missing.csv")
	if err := os.WriteFile(path, []byte("\xef\xbb\xbf资产编号,资产名称,购置日期\nZC-1,投影仪,2019-09-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(path, "")
	if err == nil || !strings.Contains(err.Error(), "缺少列：分类、存放地点、保管人、单价") {
		t.Fatalf("missing columns: %v", err)
	}
}

// Each unreadable cell is named by row and by the file's heading, and the domain's own rules
// run on what could be read.
func TestRowErrors(t *testing.T) {
	s, err := fromRecords([][]string{
		{"Tag", "Name", "Category", "Unit price", "Quantity", "Amount", "Acquired on", "Location", "Custodian"},
		{"A 1", "", "2", "10.00", "2", "25.00", "2019-09-01", "Room 1", "Li"},
		{"A2", "Desk", "99", "abc", "1", "", "2019/2/30", "Room 1", "Li"},
	})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, bad := toRequest(s, s.Rows[0], "s1", domain.DefaultCategoryTree())
	if len(bad) != 1 || bad[0].Heading != "Amount" || bad[0].Line != 2 {
		t.Fatalf("row 2 read: %v", bad)
	}
	req, _ := toRequest(s, Row{Line: 2, Cells: map[Column]string{ColTag: "A 1", ColCategory: "2", ColUnitPrice: "10",
		ColAcquiredOn: "2019-09-01", ColLocation: "Room 1", ColCustodian: "Li"}}, "s1", domain.DefaultCategoryTree())
	bad = checkDomain(s, 2, req, today, domain.DefaultCategoryTree())
	got := ""
	for _, e := range bad {
		got += e.Heading + ";"
	}
	if got != "Tag;Name;" {
		t.Fatalf("domain check: %v", bad)
	}
	_, bad = toRequest(s, s.Rows[1], "s1", domain.DefaultCategoryTree())
	got = ""
	for _, e := range bad {
		got += e.Heading + ";"
	}
	if got != "Category;Acquired on;Unit price;" {
		t.Fatalf("row 3: %v", bad)
	}
	if msg := bad[0].String(); !strings.HasPrefix(msg, "第 3 行「Category」：未知的资产分类") || !strings.Contains(msg, "/ row 3, column Category: unknown category") {
		t.Fatalf("message %q", msg)
	}
}
