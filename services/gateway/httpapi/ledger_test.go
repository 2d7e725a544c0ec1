package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"

	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func (f *fakeReports) GetDistrictLedgerBreakdown(ctx context.Context, r *reportsv1.GetDistrictLedgerBreakdownRequest, _ ...grpc.CallOption) (*reportsv1.GetDistrictLedgerBreakdownResponse, error) {
	f.seen(ctx, r)
	return &reportsv1.GetDistrictLedgerBreakdownResponse{AsOf: r.AsOf, Dimension: r.Dimension, Key: r.Key,
		Groups: []*reportsv1.DistrictLedgerGroup{{Key: "6", Name: "家具", SchoolId: "s1", SchoolName: "一小", Entries: 1, Quantity: 10,
			ValueFen: 400_000, AccumulatedDepreciationFen: 15_555, NetBookValueFen: 384_445}}}, nil
}

// The district ledger by dimension reaches the reports service with the path's dimension, the
// date and a group's key, and exports with the net book value columns.
func TestDistrictLedgerBreakdownRoute(t *testing.T) {
	f := &fakeReports{}
	mux := http.NewServeMux()
	(&API{Assets: assetsv1.NewAssetsServiceClient(nil), Reports: f, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(mux)
	code, body := get(t, mux, "/api/v1/district/ledger/category?as_of=2024-09-10&key=6&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if code != 200 || err != nil || len(recs) != 2 {
		t.Fatalf("csv: %d %v %s", code, err, body)
	}
	if h := strings.Join(recs[0], "|"); h != "分组代码 / Key|分组 / Group|学校代码 / School id|学校 / School|资产条目 / Entries|件数 / Items|"+
		"原值（元） / Value (yuan)|累计折旧（元） / Accumulated depreciation (yuan)|净值（元） / Net book value (yuan)" {
		t.Fatalf("header %s", h)
	}
	if row := strings.Join(recs[1], "|"); row != "6|家具|s1|一小|1|10|4000.00|155.55|3844.45" {
		t.Fatalf("row %s", row)
	}
	if r := f.got[0].(*reportsv1.GetDistrictLedgerBreakdownRequest); r.Dimension != "category" || r.AsOf != "2024-09-10" || r.Key != "6" ||
		f.auth[0] != "Bearer tok" {
		t.Fatalf("request %v, token %q", r, f.auth[0])
	}
}
