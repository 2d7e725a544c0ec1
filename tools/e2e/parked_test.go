package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/telemetry"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
	"houqin.dev/tools/internal/stack"
)

// A reaction refused for good, on the whole stack, as an operator meets it: accepted
// projectors delivered to a room the school has not declared, so the assets service refuses
// the registration (LOCATION_UNKNOWN) and procurement parks it; `houqin parked list` and the
// gauge houqin_reactor_parked show it; the stream is purged meanwhile (the parked row keeps
// the event); the room is added, `houqin parked retry` runs it, and the projectors are
// registered exactly once.
func TestParkedReactionRunsOnceAfterTheFix(t *testing.T) {
	houqin := buildHouqin(t)
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, "houqin-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	dir, err := os.MkdirTemp("", "houqin-parked-")
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, stack.Options{DataDir: dir, Log: logging.Discard(), District: "demo", Metrics: tel.Metrics,
		Reactor: reactor.Options{Backoff: func(uint64) time.Duration { return 100 * time.Millisecond }, RetryEvery: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		os.RemoveAll(dir)
	})
	if err := st.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	const school = "pk-e2e-zx"
	registerSchool(t, st, assets(t, st), school, "城关二中", assetsv1.SchoolKind_SCHOOL_KIND_MIDDLE)
	aconn := must(stack.Dial(st.AssetsAddr()))(t)
	t.Cleanup(func() { aconn.Close() })
	ledger := assetsv1.NewLedgerServiceClient(aconn)
	director := as(t, st, auth.RoleLogisticsDirector, school)
	must(ledger.AddBuilding(director, &assetsv1.AddBuildingRequest{RequestId: "pk-bld-jx", SchoolId: school, Code: "JX", Name: "教学楼", Floors: 4}))(t)
	must(ledger.AddRoom(director, &assetsv1.AddRoomRequest{RequestId: "pk-room-201", SchoolId: school, Code: "JX201",
		Building: "JX", Name: "多媒体教室", Kind: assetsv1.RoomKind_ROOM_KIND_CLASSROOM, Floor: 2}))(t)

	// Ordered, delivered to JX301 — a room the school has not declared — and accepted.
	conn := must(stack.Dial(st.ProcurementAddr()))(t)
	t.Cleanup(func() { conn.Close() })
	pc, fc := procurementv1.NewProcurementServiceClient(conn), procurementv1.NewFulfilmentServiceClient(conn)
	order := placeOrder(t, st, pc, school)
	store, teacher := as(t, st, auth.RoleStorekeeper, school), as(t, st, auth.RoleTeacher, school)
	lines := order.Lines
	today := time.Now().In(shanghai).Format("2006-01-02")
	d := must(fc.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "pk-deliver", SchoolId: school,
		PurchaseOrderId: order.PurchaseOrderId, DeliveredOn: today, FundingSource: "财政拨款", Lines: []*procurementv1.DeliveryLine{
			{OrderLineId: lines[0].LineId, DeliveredQuantity: 3, AcceptedQuantity: 3, Location: "JX301", Custodian: "刘老师"},
			{OrderLineId: lines[1].LineId, DeliveredQuantity: 10, AcceptedQuantity: 10, ItemCode: "BG-A4"}}}))(t)
	for i, who := range []context.Context{store, teacher} {
		must(fc.SignGoodsReceipt(who, &procurementv1.SignGoodsReceiptRequest{RequestId: fmt.Sprintf("pk-sign-%d", i), SchoolId: school,
			PurchaseOrderId: order.PurchaseOrderId, ReceiptId: d.ReceiptId}))(t)
	}

	// Parked: in the list, in the gauge.
	procDB := st.DatabaseURL("houqin_procurement")
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		out := run(t, houqin, "parked", "list", "--database-url", procDB)
		return strings.Contains(out, "procurement-register-assets") && strings.Contains(out, "LOCATION_UNKNOWN") &&
			strings.Contains(out, "1 parked reactions"), out
	})
	if n := parkedGauge(t, st, "procurement-register-assets"); n != "1" {
		t.Fatalf("houqin_reactor_parked{reactor=procurement-register-assets} = %q, want 1", n)
	}
	if n := count(t, st, "houqin_assets", `SELECT count(*) FROM events WHERE event_type = 'houqin.assets.events.v1.AssetRegistered'`); n != 0 {
		t.Fatalf("%d assets registered from a refused line", n)
	}

	// Every read model rebuilds to what it is, procurement's too (before the purge below, as
	// a rebuild reads the streams from 1).
	if had := rebuildEveryProjection(t, st); !had["procurement"] || !had["procurement_commitments"] {
		t.Fatalf("procurement read models without rows: %v", had)
	}
	// The procurement stream loses its history (an operator purged it; a limit aged it out)
	// once the projector has it: the retry cannot read the event from there.
	js := st.Procurement.JS
	stream := must(js.Stream(ctx, bus.StreamName("procurement")))(t)
	projPool := testkit.PoolFor(t, st.DatabaseURL("houqin_projector"))
	testkit.Eventually(t, 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		info := must(stream.Info(ctx))(t)
		for _, p := range []string{"procurement", "eventlog"} {
			if cp, err := projection.Checkpoint(ctx, projPool, p, "procurement"); err != nil || cp < info.State.LastSeq {
				return false, fmt.Sprintf("%s at %d of %d", p, cp, info.State.LastSeq)
			}
		}
		return true, ""
	})
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}

	// The cause fixed (the room declared), the retry asked for: registered, once.
	must(ledger.AddRoom(director, &assetsv1.AddRoomRequest{RequestId: "pk-room-301", SchoolId: school, Code: "JX301",
		Building: "JX", Name: "物理实验室", Kind: assetsv1.RoomKind_ROOM_KIND_LAB, Floor: 3}))(t)
	if out := run(t, houqin, "parked", "retry", "--database-url", procDB, "--reactor", "procurement-register-assets"); !strings.Contains(out, "asked 1 parked") {
		t.Fatalf("retry: %s", out)
	}
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		out := run(t, houqin, "parked", "list", "--database-url", procDB, "--all")
		return strings.Contains(out, "resolved") && strings.Contains(out, "1 parked reactions"), out
	})
	if out := run(t, houqin, "parked", "list", "--database-url", procDB); !strings.Contains(out, "0 parked reactions") {
		t.Fatalf("open after the retry: %s", out)
	}
	if n := parkedGauge(t, st, "procurement-register-assets"); n != "" && n != "0" {
		t.Fatalf("houqin_reactor_parked{reactor=procurement-register-assets} = %s after the retry", n)
	}
	var assetID string
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		f := must(fc.GetFulfilment(store, &procurementv1.GetFulfilmentRequest{SchoolId: school, PurchaseOrderId: order.PurchaseOrderId}))(t)
		assetID = f.Fulfilment.Receipts[0].Lines[0].AssetId
		return assetID != "", "the line's asset not recorded yet"
	})
	a := must(assets(t, st).GetAsset(director, &assetsv1.GetAssetRequest{SchoolId: school, AssetId: assetID}))(t).Asset
	if a.Location != "JX301" || a.Quantity != 3 {
		t.Fatalf("asset %v", a)
	}
	// A second retry finds nothing to do; nothing was registered or recorded twice.
	if out := run(t, houqin, "parked", "retry", "--database-url", procDB); !strings.Contains(out, "asked 0 parked") {
		t.Fatalf("second retry: %s", out)
	}
	time.Sleep(500 * time.Millisecond) // two retry intervals
	if n := count(t, st, "houqin_assets", `SELECT count(*) FROM events WHERE event_type = 'houqin.assets.events.v1.AssetRegistered'`); n != 1 {
		t.Fatalf("%d assets registered, want 1", n)
	}
	if n := count(t, st, "houqin_procurement", `SELECT count(*) FROM events WHERE event_type = 'houqin.procurement.events.v1.AcceptedLineRegistered'`); n != 1 {
		t.Fatalf("%d registrations recorded, want 1", n)
	}
}

// placeOrder orders three projectors and ten boxes of paper through the approvals and three
// quotes, and returns the order.
func placeOrder(t *testing.T, st *stack.Stack, pc procurementv1.ProcurementServiceClient, school string) *procurementv1.PurchaseOrder {
	t.Helper()
	bureau := as(t, st, auth.RoleBureauAdmin, "")
	var sups []string
	for i := 1; i <= 3; i++ {
		s := must(pc.RegisterSupplier(bureau, &procurementv1.RegisterSupplierRequest{RequestId: fmt.Sprintf("pk-supplier-%04d", i),
			Name: fmt.Sprintf("城关电教器材%d部", i), CreditCode: fmt.Sprintf("91140100MA0K00000%d", i),
			Licences: []*procurementv1.Licence{{Kind: "business_licence", Number: fmt.Sprint(i), ExpiresOn: "2099-12-31"}}}))(t)
		sups = append(sups, s.SupplierId)
	}
	bl := must(pc.OpenBudgetLine(as(t, st, auth.RoleAccountant, school), &procurementv1.OpenBudgetLineRequest{RequestId: "pk-budget",
		SchoolId: school, FiscalYear: int32(time.Now().In(shanghai).Year()), Code: "3100201", Name: "专用设备购置",
		AmountFen: 2_000_000, FundingSource: "财政拨款"}))(t)
	sub := must(pc.SubmitPurchaseRequest(as(t, st, auth.RoleTeacher, school), &procurementv1.SubmitPurchaseRequestRequest{
		RequestId: "pk-submit", SchoolId: school, Department: "教务处", BudgetLineId: bl.BudgetLineId, Reason: "物理实验室改造",
		Lines: []*procurementv1.RequestLine{
			{Name: "投影仪", Category: "2", Model: "EB-X51", Unit: "台", Quantity: 3, EstimatedUnitPriceFen: 450_000},
			{Name: "A4复印纸", Category: "office", Unit: "箱", Quantity: 10, EstimatedUnitPriceFen: 11_000}}}))(t)
	for i, role := range []auth.Role{auth.RoleDepartmentHead, auth.RoleLogisticsDirector, auth.RolePrincipal} {
		must(pc.ApprovePurchaseRequest(as(t, st, role, school), &procurementv1.ApprovePurchaseRequestRequest{
			RequestId: fmt.Sprintf("pk-approve-%d", i), SchoolId: school, PurchaseRequestId: sub.PurchaseRequestId}))(t)
	}
	store, director := as(t, st, auth.RoleStorekeeper, school), as(t, st, auth.RoleLogisticsDirector, school)
	var first string
	for i, sup := range sups {
		q := must(pc.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: fmt.Sprintf("pk-quote-%d", i), SchoolId: school,
			PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sup, UnitPricesFen: []int64{440_000 + int64(i)*5_000, 11_000}}))(t)
		if i == 0 {
			first = q.QuoteId
		}
	}
	must(pc.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "pk-choose", SchoolId: school,
		PurchaseRequestId: sub.PurchaseRequestId, QuoteId: first}))(t)
	placed := must(pc.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "pk-order", SchoolId: school,
		PurchaseRequestId: sub.PurchaseRequestId}))(t)
	return must(pc.GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId}))(t).PurchaseOrder
}

// buildHouqin builds the houqin command, so the test runs it as an operator does.
func buildHouqin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "houqin")
	cmd := exec.Command("go", "build", "-o", bin, "houqin.dev/tools/cmd/houqin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build houqin: %v\n%s", err, out)
	}
	return bin
}

// run runs the houqin command and returns its output; a failure fails the test.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("houqin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// parkedGauge reads houqin_reactor_parked of reactor from the gateway's /metrics ("" when the
// series is absent).
func parkedGauge(t *testing.T, st *stack.Stack, reactorName string) string {
	t.Helper()
	res, err := http.Get(st.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	re := regexp.MustCompile(`(?m)^houqin_reactor_parked\{[^}]*reactor="` + regexp.QuoteMeta(reactorName) + `"[^}]*\} (\S+)$`)
	if m := re.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}
