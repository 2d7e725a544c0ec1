package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// fakeReports answers the procurement district views and remembers what it was asked; every
// other call is left to the embedded nil interface (a test calling one fails loudly).
type fakeReports struct {
	reportsv1.ReportsServiceClient
	got  []proto.Message
	auth []string
}

func (f *fakeReports) seen(ctx context.Context, m proto.Message) {
	md, _ := metadata.FromOutgoingContext(ctx)
	f.got = append(f.got, m)
	f.auth = append(f.auth, strings.Join(md.Get("authorization"), ","))
}

func (f *fakeReports) GetDistrictStock(ctx context.Context, r *reportsv1.GetDistrictStockRequest, _ ...grpc.CallOption) (*reportsv1.GetDistrictStockResponse, error) {
	f.seen(ctx, r)
	return &reportsv1.GetDistrictStockResponse{AsOf: r.AsOf, ValueFen: 105_000, Schools: []*reportsv1.SchoolStock{
		{SchoolId: "s1", Name: "一小", Items: 2, ValueFen: 96_000, SlowMovingItems: 2, SlowMovingValueFen: 96_000, SlowMovingPermille: 1000},
		{SchoolId: "s2", Name: "二小", Items: 1, ValueFen: 9_000}},
		Items: []*reportsv1.DistrictStockItem{{SchoolId: "s1", Name: "一小", Item: &reportsv1.StockItemValue{ItemCode: "BG-A4", Category: "办公用品",
			OnHand: 6, ValueFen: 66_000, LastIssuedOn: "2025-05-03", SlowMoving: true, Drill: &reportsv1.Drill{Report: "stock_item", Key: "BG-A4"}}}}}, nil
}

func (f *fakeReports) GetDistrictFees(ctx context.Context, r *reportsv1.GetDistrictFeesRequest, _ ...grpc.CallOption) (*reportsv1.GetDistrictFeesResponse, error) {
	f.seen(ctx, r)
	return &reportsv1.GetDistrictFeesResponse{Term: r.Term, Schools: []*reportsv1.SchoolFees{{SchoolId: "s1", Name: "一小", Published: 2,
		CollectedFen: 3_600_000, OnBehalf: 2, Settled: 1, Unsettled: 1, RefundTotalFen: 200_000, RefundsOutstandingFen: 200_000}}}, nil
}

func (f *fakeReports) GetDistrictCompliance(ctx context.Context, r *reportsv1.GetDistrictComplianceRequest, _ ...grpc.CallOption) (*reportsv1.GetDistrictComplianceResponse, error) {
	f.seen(ctx, r)
	return &reportsv1.GetDistrictComplianceResponse{From: r.From, To: r.To}, nil
}

func (f *fakeReports) GetProcurementCompliance(ctx context.Context, r *reportsv1.GetProcurementComplianceRequest, _ ...grpc.CallOption) (*reportsv1.GetProcurementComplianceResponse, error) {
	f.seen(ctx, r)
	return &reportsv1.GetProcurementComplianceResponse{From: r.From, To: r.To}, nil
}

func get(t *testing.T, h http.Handler, path string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer tok")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, b
}

// The district stock and fee views and the compliance window reach the reports service with
// the query's values and the caller's token, and export like every table.
func TestProcurementDistrictRoutes(t *testing.T) {
	f := &fakeReports{}
	mux := http.NewServeMux()
	(&API{Assets: assetsv1.NewAssetsServiceClient(nil), Reports: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(mux)

	code, body := get(t, mux, "/api/v1/district/procurement/stock?as_of=2025-12-01")
	var st struct {
		AsOf     string `json:"as_of"`
		ValueFen string `json:"value_fen"`
		Schools  []struct {
			Name               string `json:"name"`
			SlowMovingPermille string `json:"slow_moving_permille"`
		} `json:"schools"`
	}
	if err := json.Unmarshal(body, &st); code != 200 || err != nil || st.AsOf != "2025-12-01" || st.ValueFen != "105000" ||
		len(st.Schools) != 2 || st.Schools[0].SlowMovingPermille != "1000" {
		t.Fatalf("stock: %d %s", code, body)
	}
	if r := f.got[0].(*reportsv1.GetDistrictStockRequest); r.AsOf != "2025-12-01" || f.auth[0] != "Bearer tok" {
		t.Fatalf("stock request %v, token %q", r, f.auth[0])
	}

	// The slow-moving items are the reply's second table: ?table=items, each item's columns
	// in place of the item.
	code, body = get(t, mux, "/api/v1/district/procurement/stock?as_of=2025-12-01&format=csv&table=items")
	items, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if code != 200 || err != nil || len(items) != 2 ||
		strings.Join(items[0], "|") != "学校代码 / School id|学校 / School|物品编码 / Item code|分类 / Category|结存数量 / On hand|结存金额（元） / Value (yuan)|最近出库 / Last issued|呆滞 / Slow-moving|积压 / Overstock|可用天数 / Cover (days)" ||
		strings.Join(items[1], "|") != "s1|一小|BG-A4|办公用品|6|660.00|2025-05-03|是|否|0" {
		t.Fatalf("items csv: %d %v %q", code, err, items)
	}
	if code, body = get(t, mux, "/api/v1/district/procurement/stock?format=csv&table=nope"); code != 400 || !strings.Contains(string(body), `"field":"table"`) {
		t.Fatalf("unknown table: %d %s", code, body)
	}

	code, body = get(t, mux, "/api/v1/district/procurement/fees?term=2025-2026-1&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if code != 200 || err != nil || len(recs) != 2 {
		t.Fatalf("fees csv: %d %v %s", code, err, body)
	}
	if h := strings.Join(recs[0], "|"); !strings.HasPrefix(h, "学校代码 / School id|学校 / School|公示项目 / Fees published|已收（元） / Collected (yuan)") ||
		!strings.Contains(h, "待退（元） / Refunds outstanding (yuan)") {
		t.Fatalf("fees header %s", h)
	}
	if row := strings.Join(recs[1], "|"); row != "s1|一小|2|36000.00|2|1|1|0|0.00|2000.00|2000.00" {
		t.Fatalf("fees row %s", row)
	}
	if r := f.got[3].(*reportsv1.GetDistrictFeesRequest); r.Term != "2025-2026-1" {
		t.Fatalf("fees request %v", r)
	}

	get(t, mux, "/api/v1/district/procurement/compliance?from=2025-06-01&to=2025-06-30")
	get(t, mux, "/api/v1/schools/s1/procurement/compliance?from=2025-05-01")
	if r := f.got[4].(*reportsv1.GetDistrictComplianceRequest); r.From != "2025-06-01" || r.To != "2025-06-30" {
		t.Fatalf("district compliance request %v", r)
	}
	if r := f.got[5].(*reportsv1.GetProcurementComplianceRequest); r.SchoolId != "s1" || r.From != "2025-05-01" || r.To != "" {
		t.Fatalf("school compliance request %v", r)
	}
}
