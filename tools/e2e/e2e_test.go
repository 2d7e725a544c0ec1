// Package e2e starts the whole district in-process — private PostgreSQL, embedded NATS, the
// assets service, the projector and the gateway — and drives it as users and crashes would.
package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	"houqin.dev/tools/internal/stack"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func startStack(t *testing.T) *stack.Stack {
	t.Helper()
	dir, err := os.MkdirTemp("", "houqin-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(context.Background(), stack.Options{DataDir: dir, Log: logging.Discard(), District: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		os.RemoveAll(dir)
	})
	return st
}

func token(t *testing.T, st *stack.Stack, role auth.Role, school string) string {
	t.Helper()
	tok, err := st.Token(role, school, "测试", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func as(t *testing.T, st *stack.Stack, role auth.Role, school string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token(t, st, role, school))
}

func assets(t *testing.T, st *stack.Stack) assetsv1.AssetsServiceClient {
	t.Helper()
	conn, err := stack.Dial(st.AssetsAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return assetsv1.NewAssetsServiceClient(conn)
}

func registerSchool(t *testing.T, st *stack.Stack, c assetsv1.AssetsServiceClient, id, name string, kind assetsv1.SchoolKind) {
	t.Helper()
	if _, err := c.RegisterSchool(as(t, st, auth.RoleBureauAdmin, ""), &assetsv1.RegisterSchoolRequest{
		RequestId: "school-" + id, SchoolId: id, Name: name, Kind: kind}); err != nil {
		t.Fatal(err)
	}
}

func asset(school, tag, name, cat string, price, qty int64, on string) *assetsv1.RegisterAssetRequest {
	return &assetsv1.RegisterAssetRequest{RequestId: "reg-" + school + "-" + tag, SchoolId: school, Tag: tag, Name: name,
		Category: cat, UnitPriceFen: price, Quantity: qty, AcquiredOn: on,
		Source: assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE, FundingSource: "财政拨款",
		Location: "教学楼101", Department: "总务处", Custodian: "王老师"}
}

// getJSON calls the gateway and decodes the reply.
func getJSON(t *testing.T, st *stack.Stack, tok, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	return res.StatusCode
}

// httpProto calls the gateway, expects 200 and decodes the reply into a report message.
func httpProto(t *testing.T, st *stack.Stack, tok, path string, out proto.Message) {
	t.Helper()
	var raw json.RawMessage
	if code := getJSON(t, st, tok, path, &raw); code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", path, code, raw)
	}
	if err := protojson.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

// getFile downloads an export and checks it is one.
func getFile(t *testing.T, st *stack.Stack, tok, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("%s: %d %s %s", path, res.StatusCode, res.Header, b)
	}
	return b
}

type districtJSON struct {
	AsOf     string `json:"as_of"`
	Entries  string `json:"entries"`
	ValueFen string `json:"value_fen"`
	Schools  []struct {
		SchoolID string `json:"school_id"`
		Name     string `json:"name"`
		Entries  string `json:"entries"`
		Quantity string `json:"quantity"`
		ValueFen string `json:"value_fen"`
	} `json:"schools"`
}

func TestAssetFromGRPCToDashboard(t *testing.T) {
	st := startStack(t)
	if err := st.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := assets(t, st)
	registerSchool(t, st, c, "shipai-zx", "石牌中心小学", assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY)
	registerSchool(t, st, c, "chengdong-yey", "城东幼儿园", assetsv1.SchoolKind_SCHOOL_KIND_KINDERGARTEN)

	// Two schools register their assets, each as its own logistics director.
	sp := as(t, st, auth.RoleLogisticsDirector, "shipai-zx")
	var boardID string
	for _, r := range []*assetsv1.RegisterAssetRequest{
		asset("shipai-zx", "ZC-0001", "多媒体教学一体机", "2", 1280000, 3, "2023-09-01"), // 38,400.00
		asset("shipai-zx", "ZC-0002", "学生课桌椅", "6", 38000, 45, "2024-02-20"),     // 17,100.00
	} {
		res, err := c.RegisterAsset(sp, r)
		if err != nil {
			t.Fatal(err)
		}
		if boardID == "" {
			boardID = res.AssetId
		}
	}
	if _, err := c.RegisterAsset(as(t, st, auth.RoleStorekeeper, "chengdong-yey"),
		asset("chengdong-yey", "ZC-0001", "大型组合滑梯", "3", 4800000, 1, "2022-05-01")); err != nil { // 48,000.00
		t.Fatal(err)
	}
	// A school cannot register into another school's ledger.
	if _, err := c.RegisterAsset(sp, asset("chengdong-yey", "ZC-0009", "钢琴", "3", 1800000, 1, "2022-05-01")); err == nil {
		t.Fatal("shipai-zx wrote into chengdong-yey's ledger")
	}

	viewer := token(t, st, auth.RoleBureauViewer, "")
	var d districtJSON
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		code := getJSON(t, st, viewer, "/api/v1/district/ledger", &d)
		return code == 200 && d.Entries == "3", fmt.Sprintf("HTTP %d, %+v", code, d)
	})
	if d.ValueFen != "10350000" || len(d.Schools) != 2 || d.Schools[1].SchoolID != "shipai-zx" || d.Schools[1].ValueFen != "5550000" {
		t.Fatalf("district ledger %+v", d)
	}
	// As of a date before the desks were bought.
	getJSON(t, st, viewer, "/api/v1/district/ledger?as_of=2024-01-31", &d)
	if d.ValueFen != "8640000" {
		t.Fatalf("as of 2024-01-31: %+v", d)
	}

	// Schools read their own ledger and not the other's.
	var school struct {
		SchoolName string `json:"school_name"`
		ValueFen   string `json:"value_fen"`
		Categories []struct {
			Category, CategoryName string `json:"-"`
		} `json:"categories"`
	}
	spTok := token(t, st, auth.RolePrincipal, "shipai-zx")
	if code := getJSON(t, st, spTok, "/api/v1/schools/shipai-zx/ledger", &school); code != 200 || school.ValueFen != "5550000" || school.SchoolName != "石牌中心小学" {
		t.Fatalf("own ledger: %d %+v", code, school)
	}
	var e struct {
		Error struct{ Code, Reason string } `json:"error"`
	}
	if code := getJSON(t, st, spTok, "/api/v1/schools/chengdong-yey/ledger", &e); code != 403 || e.Error.Reason != "OTHER_SCHOOL" {
		t.Fatalf("other school's ledger: %d %+v", code, e)
	}

	// Drill-down through the gateway: the events behind the desks' category, as of a date.
	var evs struct {
		Events []struct {
			Type, StreamID, OccurredAt, PayloadJSON string
		} `json:"events"`
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		code := getJSON(t, st, spTok, "/api/v1/schools/shipai-zx/events?report=ledger_category&key=6&to=2024-02-20", &evs)
		return code == 200 && len(evs.Events) == 1, fmt.Sprintf("drill: %d %+v", code, evs)
	})
	if code := getJSON(t, st, spTok, "/api/v1/schools/shipai-zx/events?report=ledger_category&key=6&to=2024-02-19", &evs); code != 200 || len(evs.Events) != 0 {
		t.Fatalf("drill before the purchase: %d %+v", code, evs)
	}
	if code := getJSON(t, st, spTok, "/api/v1/schools/chengdong-yey/events?report=ledger", &e); code != 403 {
		t.Fatalf("other school's events: %d %+v", code, e)
	}

	// Every table downloads as XLSX and CSV: read the files back.
	x := getFile(t, st, viewer, "/api/v1/district/ledger?as_of=2024-01-31&format=xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("报表")
	f.Close()
	if len(rows) != 3 || rows[0][1] != "学校 / School" || rows[2][1] != "石牌中心小学" || rows[2][6] != "38,400.00" || rows[1][6] != "48,000.00" {
		t.Fatalf("district xlsx: %q", rows)
	}
	cf := getFile(t, st, spTok, "/api/v1/schools/shipai-zx/events?report=ledger&format=csv")
	if !bytes.HasPrefix(cf, []byte("\uFEFF")) {
		t.Fatal("CSV without the UTF-8 byte-order mark Excel needs")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(cf, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][4] != "事件名称 / Event" || recs[1][4] != "资产登记入账" || !strings.Contains(recs[2][9], "学生课桌椅") {
		t.Fatalf("events csv: %q %v", recs, err)
	}

	lc := string(getFile(t, st, spTok, "/api/v1/schools/shipai-zx/ledger/location?format=csv&as_of=2024-03-01"))
	if !strings.Contains(lc, "净值（元） / Net book value (yuan)") || !strings.Contains(lc, "教学楼101,教学楼101,2,48,55500.00,") {
		t.Fatalf("ledger by location csv: %s", lc)
	}

	// Bad input through the gateway: 400 with one violation per field, nothing written.
	body := `{"request_id":"req-bad-0001","tag":"","name":"投影仪","category":"2","unit_price_fen":-5,"quantity":1,"acquired_on":"2024-13-01","source":"ACQUISITION_SOURCE_PURCHASE","location":"A","custodian":"B"}`
	req, _ := http.NewRequest(http.MethodPost, st.URL()+"/api/v1/schools/shipai-zx/assets", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token(t, st, auth.RoleLogisticsDirector, "shipai-zx"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var bad struct {
		Error struct {
			Code            string                   `json:"code"`
			FieldViolations []struct{ Field string } `json:"field_violations"`
		} `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&bad)
	res.Body.Close()
	var got []string
	for _, v := range bad.Error.FieldViolations {
		got = append(got, v.Field)
	}
	if res.StatusCode != 400 || bad.Error.Code != "INVALID_ARGUMENT" || strings.Join(got, ",") != "tag,unit_price_fen,acquired_on" {
		t.Fatalf("bad input: %d %+v", res.StatusCode, bad)
	}

	// The page, in a real browser.
	browse(t, st.URL()+"/#token="+viewer, func(b *browser) {
		b.waitText("#district-total", "¥103,500.00")
		b.waitText("#schools tbody", "石牌中心小学")
		b.waitText("#schools tbody", "城东幼儿园")
		b.waitText("#total-schools", "2")
		// The district table as a spreadsheet, from its export button.
		x := b.download(`.exports[data-table="schools"] button[data-format="xlsx"]`, ".xlsx")
		f, err := excelize.OpenReader(bytes.NewReader(x))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows("报表")
		f.Close()
		if len(rows) != 3 || rows[2][1] != "石牌中心小学" || rows[2][6] != "55,500.00" {
			t.Fatalf("downloaded xlsx: %q", rows)
		}
		// The district by group with net book value: a category opens its schools, a school's
		// part of it the events behind it.
		b.waitText("#district-groups tbody", "城东幼儿园")
		b.waitText("#district-nbv", "¥")
		b.click(`#district-dimensions button[data-dim="category"]`)
		b.waitText("#district-group-head", "分类")
		b.click(`#district-groups tr[data-key="2"]`)
		b.waitText("#district-group-head", "学校")
		b.click(`#district-groups tr[data-school="shipai-zx"]`)
		b.waitText("#events-title", "石牌中心小学 · 2 通用设备")
		b.waitText("#event-list tbody", "多媒体教学一体机")
		b.click("#events-back")
		b.click(`#schools tr[data-school="shipai-zx"]`)
		b.waitText("#ledger-groups tbody", "通用设备")
		b.waitText("#school-total", "55,500.00")
		// Drill-down: the category's number leads to the registration behind it.
		b.click(`#ledger-groups tr[data-key="2"]`)
		b.waitText("#events-title", "通用设备")
		b.waitText("#event-list tbody", "资产登记入账")
		b.waitText("#event-list tbody", "多媒体教学一体机")
		b.waitText("#event-list tbody", "2023-09-01")
		if c := b.download(`.exports[data-table="event-list"] button[data-format="csv"]`, ".csv"); !strings.Contains(string(c), "多媒体教学一体机") {
			t.Fatalf("downloaded csv: %s", c)
		}
	})
	// A class reports a repair through the repairs service; the principal's page counts it.
	conn, err := stack.Dial(st.AssetsAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := assetsv1.NewRepairsServiceClient(conn).ReportRepair(as(t, st, auth.RoleTeacher, "shipai-zx"), &assetsv1.ReportRepairRequest{
		RequestId: "repair-e2e-0001", SchoolId: "shipai-zx", Location: "教学楼101", ClassName: "三年级2班", Description: "窗户玻璃破裂",
		Severity: assetsv1.RepairSeverity_REPAIR_SEVERITY_MAJOR}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var rep struct {
			Opened string `json:"opened"`
		}
		code := getJSON(t, st, spTok, "/api/v1/schools/shipai-zx/repairs", &rep)
		return code == 200 && rep.Opened == "1", fmt.Sprintf("repairs: %d %+v", code, rep)
	})
	// The storekeeper lends the board out; the page lists it as open.
	due := time.Now().AddDate(0, 0, 10).Format("2006-01-02")
	if _, err := assetsv1.NewLendingServiceClient(conn).LendAsset(as(t, st, auth.RoleStorekeeper, "shipai-zx"), &assetsv1.LendAssetRequest{
		RequestId: "lend-e2e-0001", SchoolId: "shipai-zx", AssetId: boardID, Borrower: "赵老师", DueOn: due, Purpose: "公开课"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var l struct {
			Open string `json:"open"`
		}
		code := getJSON(t, st, spTok, "/api/v1/schools/shipai-zx/loans", &l)
		return code == 200 && l.Open == "1", fmt.Sprintf("loans: %d %+v", code, l)
	})
	// A principal's page shows the school's own ledger.
	browse(t, st.URL()+"/#token="+spTok, func(b *browser) {
		b.waitText("#school-title", "石牌中心小学")
		b.waitText("#school-total", "55,500.00")
		b.waitText("#ledger-groups tbody", "家具、用具、装具及动植物")
		// The same ledger by location and by status, each row drilling to its events.
		b.click(`#dimensions button[data-dim="location"]`)
		b.waitText("#group-head", "存放地点")
		b.waitText(`#ledger-groups tr[data-key="教学楼101"]`, "48")
		b.click(`#dimensions button[data-dim="status"]`)
		b.waitText(`#ledger-groups tr[data-key="in_use"]`, "在用")
		b.click(`#ledger-groups tr[data-key="in_use"]`)
		b.waitText("#event-list tbody", "学生课桌椅")
		b.click("#events-back")
		// Repairs and damage: the class's report, drilled down to the report event.
		b.click("#open-repairs")
		b.waitText("#repairs-opened", "1")
		b.waitText(`#repair-classes tr[data-key="三年级2班"]`, "1")
		b.click(`#repair-classes tr[data-key="三年级2班"]`)
		b.waitText("#event-list tbody", "窗户玻璃破裂")
		b.click("#events-back")
		b.click("#repairs-back")
		b.click("#open-loans")
		b.waitText("#loans-open", "1")
		b.waitText(`#loan-list tr[data-key="ZC-0001"]`, "赵老师")
		b.click(`#loan-list tr[data-key="ZC-0001"]`)
		b.waitText("#event-list tbody", "借出")
		b.click("#events-back")
		b.click("#loans-back")
		// Custody coverage opens for the current term (the demo school has no rooms yet).
		b.click("#open-custody")
		b.waitText("#custody-all", "0")
	})
}
