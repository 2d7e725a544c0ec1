package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func districtReply() *reportsv1.GetDistrictLedgerResponse {
	return &reportsv1.GetDistrictLedgerResponse{AsOf: "2024-09-01", Schools: []*reportsv1.SchoolLedger{
		{SchoolId: "shipai-zx", Name: "石牌中心小学", Kind: "primary", Boarding: false, Entries: 2, Quantity: 48, ValueFen: 5550001,
			Drill: &reportsv1.Drill{Report: "ledger", To: "2024-09-01"}},
		{SchoolId: "chengdong-yey", Name: "城东幼儿园, \"东园\"", Kind: "kindergarten", Boarding: true, Entries: 1, Quantity: 1, ValueFen: 4800000},
	}}
}

var wantHeader = "学校代码 / School id|学校 / School|学段 / Kind|寄宿 / Boarding|资产条目 / Entries|件数 / Items|原值（元） / Value (yuan)"

func TestCSVExportReadsBack(t *testing.T) {
	tab, ok := TableOf(districtReply())
	if !ok {
		t.Fatal("no table")
	}
	b, err := tab.CSV()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 byte-order mark: % x", b[:3])
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0], "|") != wantHeader {
		t.Fatalf("header %q, %d records", recs[0], len(recs))
	}
	if got := strings.Join(recs[1], "|"); got != "shipai-zx|石牌中心小学|primary|否|2|48|55500.01" {
		t.Fatalf("row 1: %s", got)
	}
	if got := strings.Join(recs[2], "|"); got != "chengdong-yey|城东幼儿园, \"东园\"|kindergarten|是|1|1|48000.00" {
		t.Fatalf("row 2: %s", got)
	}
}

func TestXLSXExportReadsBack(t *testing.T) {
	// Two pages of events make one table.
	p1 := &reportsv1.ListEventsResponse{Events: []*reportsv1.EventRecord{{EventId: "e1", StreamId: "asset:a", Version: 1, Type: "AssetRegistered",
		TypeName: "资产登记入账", PayloadJson: `{"name":"钢琴"}`}}, NextPageToken: "x"}
	p2 := &reportsv1.ListEventsResponse{Events: []*reportsv1.EventRecord{{EventId: "e2", StreamId: "asset:a", Version: 2, Type: "AssetTransferred"}}}
	tab, _ := TableOf(p1, p2)
	b, err := tab.XLSX()
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(Sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "事件编号 / Event id" || rows[0][4] != "事件名称 / Event" || rows[1][4] != "资产登记入账" ||
		rows[1][9] != `{"name":"钢琴"}` || rows[2][0] != "e2" || rows[2][2] != "2" {
		t.Fatalf("rows %q", rows)
	}

	// Money stays a number in yuan with two decimals.
	tab, _ = TableOf(districtReply())
	b, _ = tab.XLSX()
	f2, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	v, _ := f2.GetCellValue(Sheet, "G2")
	raw, _ := f2.GetCellValue(Sheet, "G2", excelize.Options{RawCellValue: true})
	typ, _ := f2.GetCellType(Sheet, "G2")
	if v != "55,500.01" || raw != "55500.01" || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Fatalf("G2 %q raw %q type %v", v, raw, typ)
	}
	if h, _ := f2.GetCellValue(Sheet, "B1"); h != "学校 / School" {
		t.Fatalf("B1 %q", h)
	}
}

func TestExportName(t *testing.T) {
	q := url.Values{"as_of": {"2024-09-01"}, "format": {"xlsx"}}
	if got := exportName("/api/v1/schools/shipai-zx/ledger", q, "xlsx"); got != "schools-shipai-zx-ledger-2024-09-01.xlsx" {
		t.Fatal(got)
	}
	if got := disposition("a-东.csv"); got != `attachment; filename="a-_.csv"; filename*=UTF-8''a-%E4%B8%9C.csv` {
		t.Fatal(got)
	}
}
