package demo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// StockFeesSchools is how many of the demo schools (the first ones) get stores and fees.
const StockFeesSchools = 6

// StockFeesResult counts what SeedStockAndFees holds.
type StockFeesResult struct {
	Schools, Items, Issues, Fees int
	// Kept counts schools an earlier run (on another day) had seeded already.
	Kept int
}

// SeedStockAndFees fills the stores (材料账) and the fees (收费) of the first StockFeesSchools
// demo schools, so the 采购与预算 pages show real numbers:
//
//   - the ordered computers of SeedProcurement are delivered and accepted by two people: the
//     computers become assets, the keyboard sets go into stock (验收入库);
//   - goods in by hand, requisitions approved and issued oldest lots first, a return, a
//     stocktake whose shortage the logistics director approves, an item not issued for over
//     half a year (呆滞) and one with more than a term's worth on hand (积压);
//   - fees: last term's 作业本费 published, collected, settled with refunds per class,
//     approved and published; this term's collected and not yet settled.
//
// Quantities and prices follow the school (deterministic); dates count back from today, so
// movements fall in this month, the last months and more than half a year ago. Request ids
// are fixed per school and fiscal year: a second run the same day repeats nothing, and a run
// on a later day finds the school seeded (its request ids carry other dates) and keeps it.
func SeedStockAndFees(ctx context.Context, conn grpc.ClientConnInterface, token TokenFunc, today time.Time, orders map[string]string) (StockFeesResult, error) {
	var res StockFeesResult
	for _, s := range Schools[:StockFeesSchools] {
		r, err := seedSchoolStockAndFees(ctx, conn, token, s, today, orders[s.ID])
		if seededBefore(err) {
			res.Kept++
			continue
		}
		if err != nil {
			return res, fmt.Errorf("demo: stock and fees of %s: %w", s.ID, err)
		}
		res.Schools++
		res.Items += r.Items
		res.Issues += r.Issues
		res.Fees += r.Fees
	}
	return res, nil
}

// seededBefore reports whether a command was refused because its request id was used, with
// other dates, by a run on an earlier day.
func seededBefore(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason == "REQUEST_ID_REUSED"
		}
	}
	return false
}

// Term is the school term (学年学期, "2026-2027-1") of day: the autumn term from September
// to January, the spring term from February to August.
func Term(day time.Time) string {
	y, m := day.Year(), day.Month()
	switch {
	case m >= time.September:
		return fmt.Sprintf("%d-%d-1", y, y+1)
	case m == time.January:
		return fmt.Sprintf("%d-%d-1", y-1, y)
	default:
		return fmt.Sprintf("%d-%d-2", y-1, y)
	}
}

// PreviousTerm is the term before Term(day).
func PreviousTerm(day time.Time) string {
	y, m := day.Year(), day.Month()
	switch {
	case m >= time.September:
		return fmt.Sprintf("%d-%d-2", y-1, y)
	case m == time.January:
		return fmt.Sprintf("%d-%d-2", y-2, y-1)
	default:
		return fmt.Sprintf("%d-%d-1", y-1, y)
	}
}

// FeeClasses are the classes that pay the demo fees, with their students.
var FeeClasses = []struct {
	Name     string
	Students int64
}{{"一年级一班", 40}, {"一年级二班", 42}, {"一年级三班", 38}}

// Demo fee numbers: 作业本费 per student, and last term's spending per student (the rest is
// refunded to every class at the same amount per student).
const (
	FeePerStudentFen   = 3_000
	FeeSpentPerStudent = 2_800
)

type schoolStockFees struct{ Items, Issues, Fees int }

func seedSchoolStockAndFees(ctx context.Context, conn grpc.ClientConnInterface, token TokenFunc, s School, today time.Time, order string) (schoolStockFees, error) {
	var out schoolStockFees
	ctxOf := map[auth.Role]context.Context{}
	for _, r := range []auth.Role{auth.RoleStorekeeper, auth.RoleTeacher, auth.RoleLogisticsDirector, auth.RoleAccountant, auth.RolePrincipal} {
		tok, err := token(r, s.ID, s.Name+string(r))
		if err != nil {
			return out, err
		}
		ctxOf[r] = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	keeper, teacher, director := ctxOf[auth.RoleStorekeeper], ctxOf[auth.RoleTeacher], ctxOf[auth.RoleLogisticsDirector]
	id := func(parts ...any) string {
		return fmt.Sprintf("demo-%s-%d-%s", s.ID, today.Year(), fmt.Sprint(parts...))
	}
	ago := func(days int) string { return today.AddDate(0, 0, -days).Format("2006-01-02") }
	k := int64(1 + hash(s.ID, "stock")%3) // 1–3: schools differ
	stock := procurementv1.NewStockServiceClient(conn)
	fees := procurementv1.NewFeesServiceClient(conn)
	fc := procurementv1.NewFulfilmentServiceClient(conn)

	// Goods in by hand (入库): chalk and hand soap in two lots, a skipping rope nobody has
	// asked for since it came (呆滞), whiteboard markers bought for years (积压).
	type item struct {
		spec   *procurementv1.StockItemSpec
		source string
		qty    int64
		cost   int64
		days   int
	}
	chalk := &procurementv1.StockItemSpec{Code: "BJ-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"}
	soap := &procurementv1.StockItemSpec{Code: "QJ-010", Name: "洗手液", Unit: "瓶", Category: "清洁用品"}
	rope := &procurementv1.StockItemSpec{Code: "TY-200", Name: "跳绳", Unit: "条", Category: "体育器材"}
	marker := &procurementv1.StockItemSpec{Code: "BG-BZ", Name: "白板笔", Unit: "支", Category: "办公用品"}
	for i, it := range []item{
		{chalk, "transfer_in", 100 * k, 350, 40},
		{soap, "other", 48 * k, 1_250, 60},
		{soap, "other", 24 * k, 1_300, 20},
		{rope, "donation", 60, 900, 220},
		{marker, "other", 500, 150, 100},
	} {
		if _, err := stock.ReceiveGoods(keeper, &procurementv1.ReceiveGoodsRequest{RequestId: id("stock-in-", i), SchoolId: s.ID, Item: it.spec,
			Quantity: it.qty, UnitCostFen: it.cost, ReceivedOn: ago(it.days), Source: it.source, Note: "演示数据"}); err != nil {
			return out, err
		}
	}
	out.Items = 4

	// Requisitions (领用单): asked by a teacher, approved by the logistics director, issued by
	// the storekeeper in parts; some chalk comes back.
	requisition := func(tag, dept, purpose string, lines ...*procurementv1.RequisitionLine) (string, error) {
		r, err := stock.RequestRequisition(teacher, &procurementv1.RequestRequisitionRequest{RequestId: id("req-", tag), SchoolId: s.ID,
			Department: dept, Purpose: purpose, Lines: lines})
		if err != nil {
			return "", err
		}
		_, err = stock.ApproveRequisition(director, &procurementv1.ApproveRequisitionRequest{RequestId: id("req-approve-", tag), SchoolId: s.ID,
			RequisitionId: r.RequisitionId})
		return r.RequisitionId, err
	}
	teaching, err := requisition("teaching", "教务处", "各班教学用粉笔、白板笔",
		&procurementv1.RequisitionLine{ItemCode: chalk.Code, Quantity: 30 * k}, &procurementv1.RequisitionLine{ItemCode: marker.Code, Quantity: 10})
	if err != nil {
		return out, err
	}
	cleaning, err := requisition("cleaning", "总务处", "洗手间、食堂洗手液", &procurementv1.RequisitionLine{ItemCode: soap.Code, Quantity: 60 * k})
	if err != nil {
		return out, err
	}
	for i, is := range []struct {
		req, code string
		qty       int64
		days      int
	}{
		{teaching, marker.Code, 10, 50},
		{teaching, chalk.Code, 20 * k, 30},
		{teaching, chalk.Code, 10 * k, 10},
		{cleaning, soap.Code, 54 * k, 5}, // both lots: the older first
	} {
		if _, err := stock.IssueStock(keeper, &procurementv1.IssueStockRequest{RequestId: id("stock-out-", i), SchoolId: s.ID, RequisitionId: is.req,
			ItemCode: is.code, Quantity: is.qty, IssuedOn: ago(is.days)}); err != nil {
			return out, err
		}
		out.Issues++
	}
	if _, err := stock.ReturnStock(keeper, &procurementv1.ReturnStockRequest{RequestId: id("stock-return"), SchoolId: s.ID, RequisitionId: teaching,
		ItemCode: chalk.Code, Quantity: 3 * k, ReturnedOn: ago(4), Reason: "期末剩余退库"}); err != nil {
		return out, err
	}
	// A stocktake (盘点): two bottles of soap missing; the director approves the shortage.
	stocktake := fmt.Sprintf("PD-%s", today.Format("200601"))
	if _, err := stock.RecordStockCount(keeper, &procurementv1.RecordStockCountRequest{RequestId: id("stock-count"), SchoolId: s.ID,
		StocktakeId: stocktake, ItemCode: soap.Code, CountedQuantity: 18*k - 2, CountedOn: ago(2)}); err != nil {
		return out, err
	}
	if _, err := stock.ApproveStockAdjustment(director, &procurementv1.ApproveStockAdjustmentRequest{RequestId: id("stock-adjust"), SchoolId: s.ID,
		StocktakeId: stocktake, ItemCode: soap.Code, AdjustedOn: ago(1)}); err != nil {
		return out, err
	}

	// The computers ordered by SeedProcurement arrive: two people sign the receipt, the
	// computers become assets and the keyboard sets go into stock (the procurement service's
	// process managers).
	if order != "" {
		po, err := procurementv1.NewProcurementServiceClient(conn).GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: s.ID,
			PurchaseOrderId: order})
		if err != nil {
			return out, err
		}
		var lines []*procurementv1.DeliveryLine
		for _, l := range po.PurchaseOrder.Lines {
			dl := &procurementv1.DeliveryLine{OrderLineId: l.LineId, DeliveredQuantity: l.Quantity, AcceptedQuantity: l.Quantity}
			if l.FixedAsset {
				dl.Location, dl.Custodian = "教师办公室", "信息中心"
			} else {
				dl.ItemCode = "JP-001"
			}
			lines = append(lines, dl)
		}
		d, err := fc.RecordDelivery(keeper, &procurementv1.RecordDeliveryRequest{RequestId: id("delivery-computers"), SchoolId: s.ID,
			PurchaseOrderId: order, DeliveredOn: ago(0), FundingSource: "财政拨款", Lines: lines})
		if err != nil {
			return out, err
		}
		for i, who := range []context.Context{keeper, teacher} {
			if _, err := fc.SignGoodsReceipt(who, &procurementv1.SignGoodsReceiptRequest{RequestId: id("delivery-sign-", i), SchoolId: s.ID,
				PurchaseOrderId: order, ReceiptId: d.ReceiptId}); err != nil {
				return out, err
			}
		}
		out.Items++
	}

	// Fees (收费公示, 代收费结退): last term's settled and published, this term's pending.
	for _, f := range []struct {
		term   string
		settle bool
	}{{PreviousTerm(today), true}, {Term(today), false}} {
		pub, err := fees.PublishFeeStandard(ctxOf[auth.RoleAccountant], &procurementv1.PublishFeeStandardRequest{RequestId: id("fee-", f.term),
			SchoolId: s.ID, Term: f.term, Item: "作业本费", Kind: "on_behalf", AmountPerStudentFen: FeePerStudentFen,
			Basis: "区教育局、物价局代收费项目目录", ApprovalDocument: "区教发〔2024〕12号"})
		if err != nil {
			return out, err
		}
		var students int64
		for i, c := range FeeClasses {
			if _, err := fees.RecordFeeCollection(teacher, &procurementv1.RecordFeeCollectionRequest{RequestId: id("fee-", f.term, "-collect-", i),
				SchoolId: s.ID, FeeId: pub.FeeId, ClassName: c.Name, StudentCount: c.Students, AmountFen: c.Students * FeePerStudentFen,
				CollectedOn: ago(0)}); err != nil {
				return out, err
			}
			students += c.Students
		}
		out.Fees++
		if !f.settle {
			continue
		}
		var refunds []*procurementv1.FeeRefund
		for _, c := range FeeClasses {
			refunds = append(refunds, &procurementv1.FeeRefund{ClassName: c.Name, StudentCount: c.Students,
				AmountFen: c.Students * (FeePerStudentFen - FeeSpentPerStudent)})
		}
		if _, err := fees.SettleFees(ctxOf[auth.RoleAccountant], &procurementv1.SettleFeesRequest{RequestId: id("fee-", f.term, "-settle"), SchoolId: s.ID,
			FeeId: pub.FeeId, SpentFen: students * FeeSpentPerStudent, Refunds: refunds, SettledOn: ago(0)}); err != nil {
			return out, err
		}
		if _, err := fees.ApproveFeeSettlement(ctxOf[auth.RolePrincipal], &procurementv1.ApproveFeeSettlementRequest{RequestId: id("fee-", f.term, "-approve"),
			SchoolId: s.ID, FeeId: pub.FeeId}); err != nil {
			return out, err
		}
		if _, err := fees.PublishFeeSettlement(ctxOf[auth.RoleAccountant], &procurementv1.PublishFeeSettlementRequest{RequestId: id("fee-", f.term, "-publish"),
			SchoolId: s.ID, FeeId: pub.FeeId}); err != nil {
			return out, err
		}
	}
	return out, nil
}
