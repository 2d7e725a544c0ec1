// Package assetimport reads a school's asset ledger kept in Excel (or CSV) and registers it
// in the assets service: the usual Chinese and English column headings, tolerant reading of
// money and dates, every row checked by the assets domain and by the server before anything
// is written, and tag-based idempotence so the same file imported twice registers each asset
// once. `houqin import assets` runs it.
package assetimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"houqin.dev/assets/domain"
)

// Column is one field of a ledger row. Its name is the RegisterAssetRequest field it feeds,
// so the server's field violations point back at it.
type Column string

// Columns of a ledger file.
const (
	ColTag        Column = "tag"
	ColName       Column = "name"
	ColCategory   Column = "category"
	ColModel      Column = "model"
	ColUnitPrice  Column = "unit_price_fen"
	ColQuantity   Column = "quantity"
	ColAmount     Column = "amount"
	ColAcquiredOn Column = "acquired_on"
	ColSource     Column = "source"
	ColFunding    Column = "funding_source"
	ColLocation   Column = "location"
	ColDepartment Column = "department"
	ColCustodian  Column = "custodian"
)

// headings are the column headings schools use, normalised (see normHeading). The first is
// the name the import reports a column by when the file has none of them.
var headings = map[Column][]string{
	ColTag:        {"资产编号", "资产编码", "资产代码", "财产编号", "卡片编号", "资产卡片号", "标签号", "编号", "tag", "assettag", "assetno", "assetnumber", "assetcode"},
	ColName:       {"资产名称", "财产名称", "名称", "品名", "物品名称", "设备名称", "name", "assetname"},
	ColCategory:   {"分类", "分类代码", "分类编码", "分类编号", "分类名称", "资产分类", "资产类别", "类别", "category", "categorycode"},
	ColModel:      {"规格型号", "型号规格", "规格", "型号", "规格/型号", "model", "spec", "specification"},
	ColUnitPrice:  {"单价", "单价元", "价格", "unitprice", "price"},
	ColQuantity:   {"数量", "件数", "台数", "quantity", "qty"},
	ColAmount:     {"金额", "总价", "总金额", "原值", "价值", "账面原值", "amount", "total", "value"},
	ColAcquiredOn: {"购置日期", "购买日期", "购入日期", "取得日期", "入账日期", "登记日期", "日期", "acquiredon", "acquisitiondate", "purchasedate", "date"},
	ColSource:     {"取得方式", "增加方式", "资产来源", "来源", "source", "acquisitionsource"},
	ColFunding:    {"经费来源", "资金来源", "经费", "fundingsource", "funding"},
	ColLocation:   {"存放地点", "存放地址", "放置地点", "存放位置", "地点", "位置", "location"},
	ColDepartment: {"使用部门", "使用单位", "部门", "管理部门", "department", "dept"},
	ColCustodian:  {"保管人", "使用人", "责任人", "管理人", "保管员", "custodian", "keeper"},
}

// required columns; unit price may come from the amount and the quantity instead.
var required = []Column{ColTag, ColName, ColCategory, ColAcquiredOn, ColLocation, ColCustodian}

// normHeading folds a heading for matching: no spaces, marks or units ("单价（元）" → "单价",
// "* 资产编号" → "资产编号", "Unit Price" → "unitprice").
func normHeading(h string) string {
	h = strings.ToLower(h)
	for _, unit := range []string{"（元）", "(元)", "（个）", "(个)"} {
		h = strings.ReplaceAll(h, unit, "")
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("*＊_-:：()（）", r) {
			return -1
		}
		return r
	}, h)
}

func columnOf(heading string) (Column, bool) {
	n := normHeading(heading)
	for c, names := range headings {
		for _, name := range names {
			if n == normHeading(name) {
				return c, true
			}
		}
	}
	return "", false
}

// Sheet is the ledger read from a file: its rows with their cells by column, and the file's
// own heading of each column (to name columns in errors as the school does).
type Sheet struct {
	Rows     []Row
	Headings map[Column]string
}

// Row is one data row as found in the file.
type Row struct {
	// Line is the row number as the spreadsheet shows it (1 = the first row of the file).
	Line  int
	Cells map[Column]string
}

// Heading is the file's heading of c, or the usual Chinese one.
func (s *Sheet) Heading(c Column) string {
	if h, ok := s.Headings[c]; ok {
		return h
	}
	if c == ColUnitPrice {
		return "单价"
	}
	return headings[c][0]
}

// ReadFile reads a .xlsx or .csv ledger. sheet picks an xlsx worksheet (default: the first
// visible one).
func ReadFile(path, sheet string) (*Sheet, error) {
	var records [][]string
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".xlsx", ".xlsm":
		var err error
		if records, err = readXLSX(path, sheet); err != nil {
			return nil, err
		}
	case ".csv", ".txt":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if records, err = readCSV(b); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("不支持的文件类型 %q，请用 .xlsx 或 .csv / unsupported file type %q: use .xlsx or .csv", ext, ext)
	}
	return fromRecords(records)
}

func readXLSX(path, sheet string) ([][]string, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("无法读取 Excel 文件 / cannot read the Excel file: %w", err)
	}
	defer f.Close()
	if sheet == "" {
		for _, name := range f.GetSheetList() {
			if visible, err := f.GetSheetVisible(name); err == nil && visible {
				sheet = name
				break
			}
		}
	}
	// Raw values: numbers as stored (a date is its serial number), not as formatted for the
	// screen, which depends on the number format and the locale.
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("工作表 %q / worksheet %q: %w", sheet, sheet, err)
	}
	return rows, nil
}

// readCSV reads UTF-8 (with or without a byte order mark) or, as Excel saves CSV on Chinese
// Windows, GB18030.
func readCSV(b []byte) ([][]string, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return nil, fmt.Errorf("文件既不是 UTF-8 也不是 GBK 编码 / the file is neither UTF-8 nor GBK: %w", err)
		}
		b = dec
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var out [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("CSV 格式有误 / malformed CSV: %w", err)
		}
		out = append(out, rec)
	}
}

// fromRecords finds the heading row (ledgers often start with a title such as
// "XX学校固定资产台帐") and maps the rows under it.
func fromRecords(records [][]string) (*Sheet, error) {
	head := -1
	var cols []Column
	for i := 0; i < len(records) && i < 20; i++ {
		found, n := make([]Column, len(records[i])), 0
		for j, cell := range records[i] {
			if c, ok := columnOf(cell); ok {
				found[j] = c
				n++
			}
		}
		if n >= 3 {
			head, cols = i, found
			break
		}
	}
	if head < 0 {
		return nil, errors.New("找不到表头行（如 资产编号、资产名称、单价…） / no heading row found (e.g. 资产编号, 资产名称, 单价 …)")
	}
	s := &Sheet{Headings: map[Column]string{}}
	for j, c := range cols {
		if c == "" {
			continue
		}
		if _, dup := s.Headings[c]; dup {
			return nil, fmt.Errorf("表头「%s」与「%s」是同一列 / headings %q and %q name the same column", s.Headings[c], records[head][j], s.Headings[c], records[head][j])
		}
		s.Headings[c] = strings.TrimSpace(records[head][j])
	}
	var missing []string
	for _, c := range required {
		if _, ok := s.Headings[c]; !ok {
			missing = append(missing, headings[c][0])
		}
	}
	_, price := s.Headings[ColUnitPrice]
	_, amount := s.Headings[ColAmount]
	if !price && !amount {
		missing = append(missing, "单价")
	}
	if len(missing) > 0 {
		m := strings.Join(missing, "、")
		return nil, fmt.Errorf("缺少列：%s / missing columns: %s", m, m)
	}
	for i := head + 1; i < len(records); i++ {
		row := Row{Line: i + 1, Cells: map[Column]string{}}
		first := ""
		for j, cell := range records[i] {
			cell = strings.TrimSpace(cell)
			if first == "" && cell != "" {
				first = cell
			}
			if j < len(cols) && cols[j] != "" {
				row.Cells[cols[j]] = cell
			}
		}
		if first == "" || isTotal(first) {
			continue // blank rows and the 合计 line at the bottom
		}
		s.Rows = append(s.Rows, row)
	}
	return s, nil
}

func isTotal(s string) bool {
	s = normHeading(s)
	return s == "合计" || s == "总计" || s == "小计" || s == "total"
}

// parseFen reads yuan ("12,800.00", "¥1280.5", "1280元") or an Excel number as fen, exactly:
// more than two decimals is an error unless it is binary floating-point noise of a cell.
func parseFen(s string) (int64, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune(",，¥￥元", r) {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, errors.New("必填 / required")
	}
	bad := errors.New("须为金额（元，最多两位小数） / must be an amount in yuan with at most two decimals")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || strings.IndexFunc(whole, notDigit) >= 0 || strings.IndexFunc(frac, notDigit) >= 0 {
		return 0, bad
	}
	if len(frac) > 2 {
		// 1280.4999999999998 from a spreadsheet's float is 1280.50; 12.345 is a typing error.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(f*100-math.Round(f*100)) > 1e-6 {
			return 0, bad
		}
		frac = strconv.FormatInt(int64(math.Round(f*100))%100+100, 10)[1:]
		whole = strconv.FormatInt(int64(math.Round(f*100))/100, 10)
	}
	frac = (frac + "00")[:2]
	if len(whole) > 15 {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	fr, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + fr, nil
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// parseQuantity reads a whole number, with thousands separators and a trailing unit ("45套").
func parseQuantity(s string) (int64, error) {
	s = strings.TrimRightFunc(strings.ReplaceAll(strings.ReplaceAll(s, ",", ""), "，", ""), func(r rune) bool {
		return unicode.Is(unicode.Han, r) || unicode.IsSpace(r)
	})
	if s == "" {
		return 0, errors.New("必填 / required")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || strings.IndexFunc(whole, notDigit) >= 0 || strings.Trim(frac, "0") != "" || len(whole) > 12 {
		return 0, errors.New("须为正整数 / must be a whole number")
	}
	return strconv.ParseInt(whole, 10, 64)
}

// parseDate reads 2019-09-01, 2019/9/1, 2019.9.1, 2019年9月1日, 20190901, a date with a time
// after it, or an Excel serial date (43709), as YYYY-MM-DD.
func parseDate(s string) (string, error) {
	if s == "" {
		return "", errors.New("必填 / required")
	}
	date, _, _ := strings.Cut(s, " ") // a time after the date
	whole, frac, oneDot := strings.Cut(date, ".")
	if strings.IndexFunc(whole, notDigit) < 0 && strings.IndexFunc(frac, notDigit) < 0 && !strings.Contains(frac, ".") {
		if len(date) == 8 { // 20190901
			return checkDate(date[:4], date[4:6], date[6:])
		}
		// An Excel serial date (days since 1899-12-30), as a raw cell holds a date.
		serial, err := strconv.ParseFloat(date, 64)
		if err != nil || serial < 1 || serial > 2958465 || (oneDot && frac == "") {
			return "", errBadDate
		}
		t, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			return "", errBadDate
		}
		return t.Format(domain.DateLayout), nil
	}
	date = strings.TrimSuffix(date, "日")
	date = strings.NewReplacer("年", "-", "月", "-", "/", "-", ".", "-").Replace(date)
	p := strings.Split(date, "-")
	if len(p) != 3 {
		return "", errBadDate
	}
	return checkDate(p[0], p[1], p[2])
}

var errBadDate = errors.New("日期格式无法识别（如 2019-09-01、2019/9/1、2019年9月1日） / unrecognised date (e.g. 2019-09-01, 2019/9/1, 2019年9月1日)")

func checkDate(y, m, d string) (string, error) {
	yy, e1 := strconv.Atoi(y)
	mm, e2 := strconv.Atoi(m)
	dd, e3 := strconv.Atoi(d)
	if e1 != nil || e2 != nil || e3 != nil || len(y) != 4 {
		return "", errBadDate
	}
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if t.Year() != yy || int(t.Month()) != mm || t.Day() != dd {
		return "", errors.New("日期不存在 / no such date")
	}
	return t.Format(domain.DateLayout), nil
}

// parseCategory takes a category code ("2", "20101"), its name ("通用设备"), both ("2 通用设备",
// "通用设备（2）") or a deeper GB/T 14885 code than the district keeps ("2010105": the longest
// class code it starts with). Names match the longest class name the cell contains.
func parseCategory(s string, tree domain.CategoryTree) (string, error) {
	if s == "" {
		return "", errors.New("必填 / required")
	}
	n := normHeading(s)
	all := tree.All()
	for _, c := range all {
		if n == c.Code || n == normHeading(c.Name) {
			return c.Code, nil
		}
	}
	best, bestName := "", ""
	for _, c := range all {
		if name := normHeading(c.Name); name != "" && strings.Contains(n, name) && len(name) > len(bestName) {
			best, bestName = c.Code, name
		}
	}
	if best != "" {
		return best, nil
	}
	if digits := strings.TrimLeftFunc(n, unicode.IsLetter); digits != "" && strings.IndexFunc(digits, notDigit) < 0 {
		for _, c := range all {
			if strings.HasPrefix(digits, c.Code) && len(c.Code) > len(best) {
				best = c.Code
			}
		}
		if best != "" {
			return best, nil
		}
	}
	return "", fmt.Errorf("未知的资产分类 %q（可填分类代码或名称，如 2 或 通用设备） / unknown category %q (give a code or a name, e.g. 2 or 通用设备)", s, s)
}

// sourceWords maps what ledgers write under 取得方式 to the domain's sources.
var sourceWords = map[string][]string{
	"purchase":      {"购置", "购买", "购入", "采购", "新购", "自购", "purchase", "purchased", "bought"},
	"donation":      {"捐赠", "受赠", "接受捐赠", "捐助", "donation", "donated", "gift"},
	"transfer_in":   {"调入", "划拨", "无偿调入", "调拨", "上级调拨", "transferin", "transfer"},
	"school_merger": {"学校合并", "合并", "并校", "合校", "merger", "schoolmerger"},
}

// parseSource reads 取得方式; an empty cell (or no such column) means 购置, as for most
// ledger entries.
func parseSource(s string) (string, error) {
	if s == "" {
		return "purchase", nil
	}
	n := normHeading(s)
	for src, words := range sourceWords {
		for _, w := range words {
			if n == w {
				return src, nil
			}
		}
	}
	return "", fmt.Errorf("未知的取得方式 %q（购置、捐赠、调入、学校合并） / unknown source %q (purchase, donation, transfer in, school merger)", s, s)
}
