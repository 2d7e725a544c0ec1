package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// day is today plus n days in the district's time zone, as the service counts.
func day(n int) string {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().In(loc).AddDate(0, 0, n).Format("2006-01-02")
}

func (e *env) asset(t *testing.T, school, tag string) string {
	t.Helper()
	res, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, school), registerReq(school, "reg-"+school+"-"+tag, tag))
	if err != nil {
		t.Fatal(err)
	}
	return res.AssetId
}

func wantRule(t *testing.T, err error, r string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition || reason(err) != r {
		t.Fatalf("want %s, got %v", r, err)
	}
}

// eventually polls f until it holds (read models follow the event store).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestCustodyAuthorization(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	for _, name := range service.CustodyServices {
		testkit.AuthorizationMatrix(t, e.conn, protoName(name), e.auth, auth.Table, "s1", "s2")
	}
}

func TestLendAndReturn(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	lending := assetsv1.NewLendingServiceClient(e.conn)
	store := e.as(t, auth.RoleStorekeeper, "s1")
	a1, a2 := e.asset(t, "s1", "ZC-1"), e.asset(t, "s1", "ZC-2")

	lend := func(req, asset, borrower, due string) (*assetsv1.LendAssetResponse, error) {
		return lending.LendAsset(store, &assetsv1.LendAssetRequest{RequestId: req, SchoolId: "s1", AssetId: asset,
			Borrower: borrower, DueOn: due, Purpose: "公开课"})
	}
	l1, err := lend("lend-00000001", a1, "张老师", day(3))
	if err != nil {
		t.Fatal(err)
	}
	again, err := lend("lend-00000001", a1, "张老师", day(3))
	if err != nil || again.LoanId != l1.LoanId || again.Version != l1.Version {
		t.Fatalf("repeat: %v %v, want %v", again, err, l1)
	}
	_, err = lend("lend-00000002", a1, "李老师", day(3))
	wantRule(t, err, "ASSET_ALREADY_ON_LOAN")
	_, err = lend("lend-00000003", a2, "李老师", day(90))
	wantRule(t, err, "LOAN_TOO_LONG")
	_, err = lend("lend-00000004", a2, "", "tomorrow")
	if got := fields(err); status.Code(err) != codes.InvalidArgument || len(got) != 2 {
		t.Fatalf("bad input: %v %v", err, got)
	}

	// Off campus: refused without a permit, lent with one issued by the logistics office.
	offCampus := &assetsv1.LendAssetRequest{RequestId: "lend-00000005", SchoolId: "s1", AssetId: a2, Borrower: "李老师",
		DueOn: day(5), OffCampus: true}
	_, err = lending.LendAsset(store, offCampus)
	wantRule(t, err, "OFF_CAMPUS_PERMIT_REQUIRED")
	permit, err := lending.IssueOffCampusPermit(e.as(t, auth.RoleLogisticsDirector, "s1"), &assetsv1.IssueOffCampusPermitRequest{
		RequestId: "permit-00000001", SchoolId: "s1", AssetId: a2, Holder: "李老师", ValidUntil: day(7), Reason: "区赛外借"})
	if err != nil {
		t.Fatal(err)
	}
	offCampus.RequestId, offCampus.PermitId = "lend-00000006", permit.PermitId
	if _, err := lending.LendAsset(store, offCampus); err != nil {
		t.Fatal(err)
	}

	// Return the first loan; the second stays out.
	ret, err := lending.ReturnAsset(store, &assetsv1.ReturnAssetRequest{RequestId: "return-0000001", SchoolId: "s1", AssetId: a1, Condition: "完好"})
	if err != nil || ret.LoanId != l1.LoanId || ret.DaysOverdue != 0 {
		t.Fatalf("return: %v %v", ret, err)
	}
	_, err = lending.ReturnAsset(store, &assetsv1.ReturnAssetRequest{RequestId: "return-0000002", SchoolId: "s1", AssetId: a1})
	wantRule(t, err, "ASSET_NOT_ON_LOAN")

	// Overdue as of a week from now: only the off-campus loan (due in 5 days, still out).
	viewer := e.as(t, auth.RoleBureauViewer, "")
	var overdue *assetsv1.ListOverdueLoansResponse
	eventually(t, "the overdue loan", func() bool {
		overdue, err = lending.ListOverdueLoans(viewer, &assetsv1.ListOverdueLoansRequest{SchoolId: "s1", AsOf: day(7)})
		return err == nil && len(overdue.Loans) == 1 && overdue.Loans[0].AssetId == a2
	})
	if l := overdue.Loans[0]; l.AssetId != a2 || l.Borrower != "李老师" || l.DaysOverdue != 2 || !l.OffCampus || l.Tag != "ZC-2" {
		t.Fatalf("overdue %v", l)
	}
	// As of today nothing is overdue; a bad date is invalid input.
	now, err := lending.ListOverdueLoans(viewer, &assetsv1.ListOverdueLoansRequest{SchoolId: "s1"})
	if err != nil || len(now.Loans) != 0 || now.AsOf != day(0) {
		t.Fatalf("today: %v %v", now, err)
	}
	if _, err := lending.ListOverdueLoans(viewer, &assetsv1.ListOverdueLoansRequest{SchoolId: "s1", AsOf: "2025/01/01"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad as_of: %v", err)
	}
	// Every lending decision records the custody policy it was judged against.
	var versions []string
	rows, err := e.svc.Store().Pool().Query(context.Background(), `SELECT DISTINCT policy_version FROM events
		WHERE event_type IN ('houqin.assets.events.v1.AssetLent',
		'houqin.assets.events.v1.OffCampusPermitIssued', 'houqin.assets.events.v1.AssetReturned')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		_ = rows.Scan(&v)
		versions = append(versions, v)
	}
	if len(versions) != 1 || versions[0] != "custody-2020" {
		t.Fatalf("policy versions %v", versions)
	}
	// Another school cannot lend s1's asset: it does not exist there.
	e.school(t, "s2")
	_, err = lending.LendAsset(e.as(t, auth.RoleStorekeeper, "s2"), &assetsv1.LendAssetRequest{RequestId: "lend-00000007",
		SchoolId: "s2", AssetId: a1, Borrower: "赵老师", DueOn: day(1)})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("other school's asset: %v", err)
	}
}

func TestDamageCharge(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	damage := assetsv1.NewDamageServiceClient(e.conn)
	a1 := e.asset(t, "s1", "ZC-1")
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	req := &assetsv1.ChargeDamageRequest{RequestId: "damage-0000001", SchoolId: "s1", AssetId: a1,
		LiableKind: assetsv1.LiableKind_LIABLE_KIND_PERSON, Liable: "王小明", ClassName: "三年级2班",
		Description: "屏幕被砸裂", Intentional: true, DamagedOn: day(0)}
	c, err := damage.ChargeDamage(dir, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.AmountFen != 1280000 { // the asset's unit price (policy: 100%)
		t.Fatalf("charge %v", c)
	}
	again, err := damage.ChargeDamage(dir, req)
	if err != nil || again.ChargeId != c.ChargeId || again.AmountFen != c.AmountFen {
		t.Fatalf("repeat: %v %v", again, err)
	}
	acct := e.as(t, auth.RoleAccountant, "s1")
	pay := func(req string, fen int64) (*assetsv1.RecordDamagePaymentResponse, error) {
		return damage.RecordDamagePayment(acct, &assetsv1.RecordDamagePaymentRequest{RequestId: req, SchoolId: "s1",
			ChargeId: c.ChargeId, AmountFen: fen, ReceiptNo: "SJ-" + req})
	}
	p1, err := pay("pay-000000001", 300000)
	if err != nil || p1.OutstandingFen != 980000 || p1.Status != assetsv1.DamageStatus_DAMAGE_STATUS_PARTIALLY_PAID {
		t.Fatalf("partial payment: %v %v", p1, err)
	}
	_, err = pay("pay-000000002", 980001)
	wantRule(t, err, "DAMAGE_PAYMENT_EXCEEDS_OUTSTANDING")
	// A repeated payment answers as it did, even after a later change.
	w, err := damage.WaiveDamage(e.as(t, auth.RolePrincipal, "s1"), &assetsv1.WaiveDamageRequest{RequestId: "waive-00000001",
		SchoolId: "s1", ChargeId: c.ChargeId, Reason: "家庭困难，校长办公会同意减免"})
	if err != nil || w.WaivedFen != 980000 {
		t.Fatalf("waive: %v %v", w, err)
	}
	if r, err := pay("pay-000000001", 300000); err != nil || r.OutstandingFen != 980000 || r.Version != p1.Version {
		t.Fatalf("repeated payment: %v %v", r, err)
	}
	_, err = pay("pay-000000003", 1)
	wantRule(t, err, "DAMAGE_ALREADY_SETTLED")
	got, err := damage.GetDamageCharge(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.GetDamageChargeRequest{SchoolId: "s1", ChargeId: c.ChargeId})
	if err != nil {
		t.Fatal(err)
	}
	if g := got.Charge; g.Status != assetsv1.DamageStatus_DAMAGE_STATUS_SETTLED || g.PaidFen != 300000 || g.WaivedFen != 980000 ||
		g.OutstandingFen != 0 || g.ClassName != "三年级2班" || g.WaiverReason == "" {
		t.Fatalf("charge %v", g)
	}
	// Bad input: every field at once, nothing stored.
	_, err = damage.ChargeDamage(dir, &assetsv1.ChargeDamageRequest{RequestId: "damage-0000002", SchoolId: "s1", AssetId: a1, AmountFen: -1})
	if got := fields(err); status.Code(err) != codes.InvalidArgument || len(got) != 4 {
		t.Fatalf("bad input: %v %v", err, got)
	}
	var n int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type='damage'`).Scan(&n)
	if n != 4 { // charged, paid, waived, settled
		t.Fatalf("%d damage events", n)
	}
	// The charge is judged by the policy in force and dated on the day of the damage.
	var policy, occurred string
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT policy_version,
		to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM events
		WHERE event_type='houqin.assets.events.v1.DamageCharged'`).Scan(&policy, &occurred)
	if policy != "custody-2020" || occurred != day(0)+" 00:00" {
		t.Fatalf("charge judged by %q, dated %q", policy, occurred)
	}
}

func protoName(s string) protoreflect.FullName { return protoreflect.FullName(s) }

func TestCustodyAgreement(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	custody := assetsv1.NewCustodyServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	a1, a2, a3 := e.asset(t, "s1", "ZC-1"), e.asset(t, "s1", "ZC-2"), e.asset(t, "s1", "ZC-3")
	r4 := registerReq("s1", "reg-s1-ZC-4", "ZC-4")
	r4.Location = "教学楼202"
	res4, err := e.client.RegisterAsset(dir, r4)
	if err != nil {
		t.Fatal(err)
	}
	a4 := res4.AssetId

	draw := func(req, unit string, ids ...string) (*assetsv1.DrawUpCustodyAgreementResponse, error) {
		return custody.DrawUpCustodyAgreement(dir, &assetsv1.DrawUpCustodyAgreementRequest{RequestId: req, SchoolId: "s1",
			Term: "2025-2026-1", UnitKind: assetsv1.UnitKind_UNIT_KIND_ROOM, Unit: unit, Head: "陈老师", AssetIds: ids})
	}
	_, err = draw("custody-0000001", "教学楼201", a1, a4)
	wantRule(t, err, "CUSTODY_ITEM_NOT_IN_UNIT")
	g, err := draw("custody-0000002", "教学楼201", a1, a2, a3)
	if err != nil || g.ItemCount != 3 {
		t.Fatalf("draw up: %v %v", g, err)
	}
	_, err = draw("custody-0000003", "教学楼201", a1)
	wantRule(t, err, "CUSTODY_AGREEMENT_EXISTS")

	teacher := e.as(t, auth.RoleTeacher, "s1")
	sign := func(req string, phase assetsv1.SignPhase) error {
		_, err := custody.SignCustodyAgreement(teacher, &assetsv1.SignCustodyAgreementRequest{RequestId: req, SchoolId: "s1",
			AgreementId: g.AgreementId, Phase: phase, SignedBy: "陈老师"})
		return err
	}
	wantRule(t, sign("sign-00000001", assetsv1.SignPhase_SIGN_PHASE_END), "CUSTODY_AGREEMENT_OUT_OF_ORDER")
	if err := sign("sign-00000002", assetsv1.SignPhase_SIGN_PHASE_START); err != nil {
		t.Fatal(err)
	}
	// During the term ZC-3 moves to the library with a transfer; ZC-2 leaves and ZC-4 arrives without one.
	if _, err := e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "move-0000001", SchoolId: "s1", AssetId: a3,
		ToLocation: "图书馆", Reason: "图书馆借用"}); err != nil {
		t.Fatal(err)
	}
	check, err := custody.RecheckCustodyAgreement(e.as(t, auth.RoleStorekeeper, "s1"), &assetsv1.RecheckCustodyAgreementRequest{
		RequestId: "recheck-000001", SchoolId: "s1", AgreementId: g.AgreementId, FoundAssetIds: []string{a1, a4}, CheckedBy: "保管员刘"})
	if err != nil {
		t.Fatal(err)
	}
	if f := check.Findings; len(f) != 2 || f[0].AssetId != a2 || f[0].Kind != "missing" || f[1].AssetId != a4 ||
		f[1].Kind != "not_listed" || f[1].LedgerLocation != "教学楼202" {
		t.Fatalf("findings %v", f)
	}
	if err := sign("sign-00000003", assetsv1.SignPhase_SIGN_PHASE_END); err != nil {
		t.Fatal(err)
	}
	got, err := custody.GetCustodyAgreement(e.as(t, auth.RoleBureauViewer, ""), &assetsv1.GetCustodyAgreementRequest{SchoolId: "s1", AgreementId: g.AgreementId})
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Agreement; a.Status != assetsv1.CustodyStatus_CUSTODY_STATUS_CLOSED || len(a.Findings) != 2 || len(a.AssetIds) != 3 ||
		a.SignedAtStartOn != day(0) || a.SignedAtEndOn != day(0) {
		t.Fatalf("agreement %v", a)
	}

	// Without a list, the agreement lists what the ledger puts at the unit (the holdings read model).
	eventually(t, "the holdings of 教学楼202", func() bool {
		var n int
		_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM assets_holdings.assets WHERE location='教学楼202'`).Scan(&n)
		return n == 1
	})
	g2, err := draw("custody-0000004", "教学楼202")
	if err != nil || g2.ItemCount != 1 {
		t.Fatalf("draw up from the ledger: %v %v", g2, err)
	}
	_, err = draw("custody-0000005", "", "not-a-uuid")
	if got := fields(err); status.Code(err) != codes.InvalidArgument || len(got) != 2 {
		t.Fatalf("bad input: %v %v", err, got)
	}
}

func TestRequisition(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	req := assetsv1.NewRequisitionServiceClient(e.conn)
	teacher, dir, keeper := e.as(t, auth.RoleTeacher, "s1"), e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RoleStorekeeper, "s1")
	sub, err := req.SubmitRequisition(teacher, &assetsv1.SubmitRequisitionRequest{RequestId: "requisition-01", SchoolId: "s1",
		Requester: "张老师", Department: "科学组", Purpose: "实验课", Items: []*assetsv1.RequestedItem{
			{Item: "酒精灯", Unit: "个", Quantity: 10}, {Item: "万用表", Unit: "台", Quantity: 3, Returnable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.RequisitionId
	issue := func(rid string, lines ...*assetsv1.LineAmount) error {
		_, err := req.IssueRequisition(keeper, &assetsv1.IssueRequisitionRequest{RequestId: rid, SchoolId: "s1", RequisitionId: id, Lines: lines})
		return err
	}
	wantRule(t, issue("issue-00000001"), "REQUISITION_NOT_APPROVED")
	if _, err := req.ApproveRequisition(dir, &assetsv1.ApproveRequisitionRequest{RequestId: "approve-000001", SchoolId: "s1",
		RequisitionId: id, Lines: []*assetsv1.LineAmount{{Line: 1, Quantity: 8}}}); err != nil {
		t.Fatal(err)
	}
	wantRule(t, issue("issue-00000002", &assetsv1.LineAmount{Line: 1, Quantity: 9}), "ISSUE_EXCEEDS_APPROVED")
	if err := issue("issue-00000003"); err != nil {
		t.Fatal(err)
	}
	wantRule(t, issue("issue-00000004"), "NOTHING_TO_ISSUE")
	if _, err := req.ReturnIssuedItems(keeper, &assetsv1.ReturnIssuedItemsRequest{RequestId: "return-0000001", SchoolId: "s1",
		RequisitionId: id, Lines: []*assetsv1.LineAmount{{Line: 2, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	got, err := req.GetRequisition(teacher, &assetsv1.GetRequisitionRequest{SchoolId: "s1", RequisitionId: id})
	if err != nil {
		t.Fatal(err)
	}
	q := got.Requisition
	if q.Status != assetsv1.RequisitionStatus_REQUISITION_STATUS_ISSUED || q.Items[0].Issued != 8 || q.Items[1].Issued != 3 ||
		q.Items[1].Returned != 1 || q.Items[0].Approved != 8 {
		t.Fatalf("requisition %v", q)
	}
	// The holdings model counts the two meters still out with 张老师.
	eventually(t, "the issued items in holdings", func() bool {
		var out int64
		_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT coalesce(sum(issued-returned),0) FROM assets_holdings.issued
			WHERE school_id='s1' AND person='张老师' AND returnable`).Scan(&out)
		return out == 2
	})
	// A rejected requisition is never issued; bad input names its fields.
	sub2, err := req.SubmitRequisition(teacher, &assetsv1.SubmitRequisitionRequest{RequestId: "requisition-02", SchoolId: "s1",
		Requester: "张老师", Items: []*assetsv1.RequestedItem{{Item: "打印纸", Unit: "箱", Quantity: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := req.RejectRequisition(dir, &assetsv1.RejectRequisitionRequest{RequestId: "reject-0000001", SchoolId: "s1",
		RequisitionId: sub2.RequisitionId, Reason: "本月已领"}); err != nil {
		t.Fatal(err)
	}
	_, err = req.IssueRequisition(keeper, &assetsv1.IssueRequisitionRequest{RequestId: "issue-00000005", SchoolId: "s1", RequisitionId: sub2.RequisitionId})
	wantRule(t, err, "REQUISITION_REJECTED")
	_, err = req.SubmitRequisition(teacher, &assetsv1.SubmitRequisitionRequest{RequestId: "bad", SchoolId: "s1",
		Items: []*assetsv1.RequestedItem{{Item: "笔", Quantity: -1}}})
	if got := fields(err); status.Code(err) != codes.InvalidArgument || len(got) != 3 {
		t.Fatalf("bad input: %v %v", err, got)
	}
}

func TestStaffClearance(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	dir, keeper := e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RoleStorekeeper, "s1")
	clearance := assetsv1.NewClearanceServiceClient(e.conn)
	lending := assetsv1.NewLendingServiceClient(e.conn)
	reqs := assetsv1.NewRequisitionServiceClient(e.conn)

	a1 := e.asset(t, "s1", "ZC-1") // custodian 李老师
	r2 := registerReq("s1", "reg-s1-ZC-2", "ZC-2")
	r2.Custodian = "总务处"
	res2, err := e.client.RegisterAsset(dir, r2)
	if err != nil {
		t.Fatal(err)
	}
	a2 := res2.AssetId
	if _, err := lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000001", SchoolId: "s1", AssetId: a2,
		Borrower: "李老师", DueOn: day(5)}); err != nil {
		t.Fatal(err)
	}
	sub, err := reqs.SubmitRequisition(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.SubmitRequisitionRequest{RequestId: "requisition-01",
		SchoolId: "s1", Requester: "李老师", Items: []*assetsv1.RequestedItem{{Item: "粉笔", Quantity: 5}, {Item: "卷尺", Quantity: 1, Returnable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ApproveRequisition(dir, &assetsv1.ApproveRequisitionRequest{RequestId: "approve-000001", SchoolId: "s1", RequisitionId: sub.RequisitionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.IssueRequisition(keeper, &assetsv1.IssueRequisitionRequest{RequestId: "issue-00000001", SchoolId: "s1", RequisitionId: sub.RequisitionId}); err != nil {
		t.Fatal(err)
	}

	start, err := clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: "clearance-0001", SchoolId: "s1",
		Person: "李老师", Department: "数学组", LeavingOn: day(10), Reason: "调往城关小学"})
	if err != nil {
		t.Fatal(err)
	}
	complete := func(req string) error {
		_, err := clearance.CompleteClearance(dir, &assetsv1.CompleteClearanceRequest{RequestId: req, SchoolId: "s1", ClearanceId: start.ClearanceId})
		return err
	}
	// Completion reads the holdings only once they hold every earlier event: all three are out.
	err = complete("complete-00001")
	wantRule(t, err, "CLEARANCE_HOLDINGS_OUTSTANDING")
	if info := errInfo(err); info["custodian"] != "1" || info["loans"] != "1" || info["issued"] != "1" {
		t.Fatalf("outstanding %v", info)
	}
	got, err := clearance.GetClearance(dir, &assetsv1.GetClearanceRequest{SchoolId: "s1", ClearanceId: start.ClearanceId})
	if err != nil || len(got.Clearance.Held) != 3 || got.Clearance.Completed {
		t.Fatalf("clearance %v %v", got, err)
	}

	// Return the loan and the tape measure, hand the asset over: completion succeeds at once.
	if _, err := lending.ReturnAsset(keeper, &assetsv1.ReturnAssetRequest{RequestId: "return-0000001", SchoolId: "s1", AssetId: a2}); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ReturnIssuedItems(keeper, &assetsv1.ReturnIssuedItemsRequest{RequestId: "return-0000002", SchoolId: "s1", RequisitionId: sub.RequisitionId}); err != nil {
		t.Fatal(err)
	}
	err = complete("complete-00002")
	wantRule(t, err, "CLEARANCE_HOLDINGS_OUTSTANDING")
	if info := errInfo(err); info["custodian"] != "1" || info["loans"] != "0" || info["issued"] != "0" {
		t.Fatalf("outstanding %v", info)
	}
	if _, err := e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "move-0000001", SchoolId: "s1", AssetId: a1,
		ToCustodian: "赵老师", Reason: "教职工调离移交"}); err != nil {
		t.Fatal(err)
	}
	if err := complete("complete-00003"); err != nil {
		t.Fatal(err)
	}
	wantRule(t, complete("complete-00004"), "CLEARANCE_ALREADY_COMPLETED")
	got, err = clearance.GetClearance(e.as(t, auth.RolePrincipal, "s1"), &assetsv1.GetClearanceRequest{SchoolId: "s1", ClearanceId: start.ClearanceId})
	if err != nil || !got.Clearance.Completed || got.Clearance.CompletedOn != day(0) || len(got.Clearance.Held) != 0 {
		t.Fatalf("clearance %v %v", got, err)
	}
	// One clearance per person and leaving date.
	_, err = clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: "clearance-0002", SchoolId: "s1",
		Person: "李老师", LeavingOn: day(10)})
	wantRule(t, err, "CLEARANCE_EXISTS")
}

func errInfo(err error) map[string]string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Metadata
		}
	}
	return nil
}

// Twenty storekeepers lend one asset at once: the asset's stream lets exactly one through.
func TestConcurrentLendsOfOneAsset(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	lending := assetsv1.NewLendingServiceClient(e.conn)
	a1 := e.asset(t, "s1", "ZC-1")
	store := e.as(t, auth.RoleStorekeeper, "s1")
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = lending.LendAsset(store, &assetsv1.LendAssetRequest{RequestId: fmt.Sprintf("lend-%08d", i),
				SchoolId: "s1", AssetId: a1, Borrower: fmt.Sprintf("教师%d", i), DueOn: day(3)})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case reason(err) == "ASSET_ALREADY_ON_LOAN", status.Code(err) == codes.Aborted:
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	var lent int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type='houqin.assets.events.v1.AssetLent'`).Scan(&lent)
	if ok != 1 || lent != 1 {
		t.Fatalf("%d loans granted, %d stored; want 1", ok, lent)
	}
}

// A clearance completes while nineteen loans to the same person (every third a hand-over into
// their custody instead) are being made, round after round, spread over the time the
// completion reads the holdings. The completion and a loan cannot both be decided on the same
// holdings: either the completion is refused (loans outstanding) or it commits first and the
// loans are refused (the person is cleared) — never a completed clearance with a loan made
// before it. Checked against the stored events, not the mechanism.
func TestClearanceRacesLoans(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	dir, keeper := e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RoleStorekeeper, "s1")
	clearance := assetsv1.NewClearanceServiceClient(e.conn)
	lending := assetsv1.NewLendingServiceClient(e.conn)
	const rounds, loans = 16, 19
	completedRounds := 0
	for r := range rounds {
		person := fmt.Sprintf("离校教师%d", r)
		assets := make([]string, loans)
		for i := range assets {
			req := registerReq("s1", fmt.Sprintf("race-reg-%d-%02d", r, i), fmt.Sprintf("ZC-%d-%02d", r, i))
			req.Custodian = "总务处"
			res, err := e.client.RegisterAsset(dir, req)
			if err != nil {
				t.Fatal(err)
			}
			assets[i] = res.AssetId
		}
		started, err := clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: fmt.Sprintf("race-clear-%d", r),
			SchoolId: "s1", Person: person, LeavingOn: day(10)})
		if err != nil {
			t.Fatal(err)
		}
		go0 := make(chan struct{})
		var wg sync.WaitGroup
		results := make([]error, loans+1)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-go0
				if i < loans {
					// The loans arrive while the completion reads the holdings (it first waits
					// for the read model): from a later moment each round, half a millisecond
					// apart.
					time.Sleep(time.Duration(r)*2*time.Millisecond + time.Duration(i)*time.Millisecond/2)
				}
				if i == loans {
					_, results[i] = clearance.CompleteClearance(dir, &assetsv1.CompleteClearanceRequest{RequestId: fmt.Sprintf("race-done-%d", r),
						SchoolId: "s1", ClearanceId: started.ClearanceId})
					return
				}
				if i%3 == 2 { // every third hands an asset into the person's custody instead
					_, results[i] = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: fmt.Sprintf("race-keep-%d-%02d", r, i),
						SchoolId: "s1", AssetId: assets[i], ToCustodian: person})
					return
				}
				_, results[i] = lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: fmt.Sprintf("race-lend-%d-%02d", r, i),
					SchoolId: "s1", AssetId: assets[i], Borrower: person, DueOn: day(3)})
			}()
		}
		close(go0)
		wg.Wait()
		completed, lent := results[loans] == nil, 0
		if !completed && reason(results[loans]) != "CLEARANCE_HOLDINGS_OUTSTANDING" && status.Code(results[loans]) != codes.Aborted {
			t.Fatalf("round %d: completion %v", r, results[loans])
		}
		for _, err := range results[:loans] {
			switch {
			case err == nil:
				lent++
			case reason(err) == "BORROWER_CLEARED", status.Code(err) == codes.Aborted:
			default:
				t.Fatalf("round %d: loan %v", r, err)
			}
		}
		var stored int
		if err := e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events
			WHERE event_type IN ('houqin.assets.events.v1.AssetLent', 'houqin.assets.events.v1.AssetTransferred') AND stream_id = ANY($1)`, streamIDs(assets)).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != lent {
			t.Fatalf("round %d: %d loans and custody changes answered, %d stored", r, lent, stored)
		}
		if completed {
			completedRounds++
			if stored != 0 {
				t.Fatalf("round %d: the clearance completed and %d loans to %s or custody changes were made", r, stored, person)
			}
		}
		t.Logf("round %d: completed %v, %d loans", r, completed, lent)
	}
	t.Logf("%d of %d rounds completed the clearance first", completedRounds, rounds)
}

func streamIDs(assets []string) []string {
	out := make([]string, len(assets))
	for i, a := range assets {
		out[i] = "asset:" + a
	}
	return out
}

// Two 张伟 in one school: with a staff directory, custody, loans and clearance follow the
// staff number, so each clearance lists only what that 张伟 holds.
func TestStaffDirectoryAndClearanceByStaffNumber(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	dir, keeper := e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RoleStorekeeper, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	clearance := assetsv1.NewClearanceServiceClient(e.conn)
	lending := assetsv1.NewLendingServiceClient(e.conn)

	// Before the directory, names are free: 陈老师 borrows by name.
	a0 := e.asset(t, "s1", "ZC-0")
	if _, err := lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000000", SchoolId: "s1", AssetId: a0,
		Borrower: "陈老师", DueOn: day(5)}); err != nil {
		t.Fatal(err)
	}
	for i, st := range []*assetsv1.AddStaffRequest{{StaffNo: "T001", Name: "张伟"}, {StaffNo: "T002", Name: "张伟"},
		{StaffNo: "T003", Name: "王老师"}, {StaffNo: "T004", Name: "李老师"}} {
		st.RequestId, st.SchoolId = fmt.Sprintf("staff-%08d", i), "s1"
		if _, err := ledger.AddStaff(dir, st); err != nil {
			t.Fatalf("add %s: %v", st.StaffNo, err)
		}
	}
	_, err := ledger.AddStaff(dir, &assetsv1.AddStaffRequest{RequestId: "staff-again-01", SchoolId: "s1", StaffNo: "T001", Name: "张三"})
	wantRule(t, err, "STAFF_NO_TAKEN")
	_, err = ledger.AddStaff(dir, &assetsv1.AddStaffRequest{RequestId: "staff-bad-0001", SchoolId: "s1", StaffNo: "T 5"})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || len(st.Details()) != 1 {
		t.Fatalf("bad staff: %v", err)
	}
	list, err := ledger.ListStaff(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.ListStaffRequest{SchoolId: "s1"})
	if err != nil || len(list.Staff) != 4 || list.Staff[0].StaffNo != "T001" || list.Staff[1].Name != "张伟" {
		t.Fatalf("staff %v %v", list, err)
	}

	// 张伟 T001 keeps a1; 张伟 T002 borrows a2 (custodian 李老师, found by name).
	r1 := registerReq("s1", "reg-s1-ZC-1", "ZC-1")
	r1.Custodian = "张伟"
	_, err = e.client.RegisterAsset(dir, r1)
	wantRule(t, err, "STAFF_AMBIGUOUS")
	r1.CustodianStaffNo = "T001"
	res1, err := e.client.RegisterAsset(dir, r1)
	if err != nil {
		t.Fatal(err)
	}
	a2 := e.asset(t, "s1", "ZC-2")
	_, err = lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000001", SchoolId: "s1", AssetId: a2,
		Borrower: "赵老师", DueOn: day(5)})
	wantRule(t, err, "STAFF_UNKNOWN")
	if _, err := lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000002", SchoolId: "s1", AssetId: a2,
		Borrower: "张伟", BorrowerStaffNo: "T002", DueOn: day(5)}); err != nil {
		t.Fatal(err)
	}

	// Each 张伟's clearance lists their own holdings only.
	_, err = clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: "clearance-0000", SchoolId: "s1",
		Person: "张伟", LeavingOn: day(10)})
	wantRule(t, err, "STAFF_AMBIGUOUS")
	clearances := map[string]string{} // by staff number
	held := func(req, no string) string {
		t.Helper()
		start, err := clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: req, SchoolId: "s1",
			Person: "张伟", StaffNo: no, LeavingOn: day(10)})
		if err != nil {
			t.Fatal(err)
		}
		clearances[no] = start.ClearanceId
		var got string
		eventually(t, "the clearance of "+no, func() bool {
			c, err := clearance.GetClearance(dir, &assetsv1.GetClearanceRequest{SchoolId: "s1", ClearanceId: start.ClearanceId})
			if err != nil || len(c.Clearance.Held) == 0 {
				return false
			}
			got = ""
			for _, h := range c.Clearance.Held {
				got += h.Kind + ":" + h.AssetId + " "
			}
			return true
		})
		return got
	}
	if got := held("clearance-t001", "T001"); got != "custodian:"+res1.AssetId+" " {
		t.Errorf("T001 holds %s", got)
	}
	if got := held("clearance-t002", "T002"); got != "loan:"+a2+" " {
		t.Errorf("T002 holds %s", got)
	}

	// Clearance and loans meet on the staff number: once 张伟 T002 (who returns the loan) is
	// cleared, a loan to T002 is refused, and one to the other 张伟 is not.
	if _, err := lending.ReturnAsset(keeper, &assetsv1.ReturnAssetRequest{RequestId: "return-0000002", SchoolId: "s1", AssetId: a2}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "T002's clearance to complete", func() bool {
		_, err := clearance.CompleteClearance(dir, &assetsv1.CompleteClearanceRequest{RequestId: "complete-t002", SchoolId: "s1",
			ClearanceId: clearances["T002"]})
		return err == nil
	})
	_, err = lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000004", SchoolId: "s1", AssetId: a2,
		Borrower: "张伟", BorrowerStaffNo: "T002", DueOn: day(5)})
	wantRule(t, err, "BORROWER_CLEARED")
	// Nor can T002 take an asset into custody; handed over by name alone, 张伟 is ambiguous.
	_, err = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "move-00000001", SchoolId: "s1",
		AssetId: res1.AssetId, ToCustodian: "张伟", ToCustodianStaffNo: "T002", Reason: "移交"})
	wantRule(t, err, "BORROWER_CLEARED")
	_, err = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "move-00000002", SchoolId: "s1",
		AssetId: a2, ToCustodian: "张伟", Reason: "移交"})
	wantRule(t, err, "STAFF_AMBIGUOUS")
	// T001 is not cleared: a loan to them goes through.
	if _, err := lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000005", SchoolId: "s1", AssetId: a2,
		Borrower: "张伟", BorrowerStaffNo: "T001", DueOn: day(5)}); err != nil {
		t.Fatal(err)
	}

	// A returnable item issued to 张伟 T001 is T001's to return, not T002's.
	reqs := assetsv1.NewRequisitionServiceClient(e.conn)
	rq, err := reqs.SubmitRequisition(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.SubmitRequisitionRequest{RequestId: "requisition-t1",
		SchoolId: "s1", Requester: "张伟", RequesterStaffNo: "T001", Items: []*assetsv1.RequestedItem{{Item: "卷尺", Quantity: 1, Returnable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.ApproveRequisition(dir, &assetsv1.ApproveRequisitionRequest{RequestId: "approve-t1", SchoolId: "s1", RequisitionId: rq.RequisitionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := reqs.IssueRequisition(keeper, &assetsv1.IssueRequisitionRequest{RequestId: "issue-t1", SchoolId: "s1", RequisitionId: rq.RequisitionId}); err != nil {
		t.Fatal(err)
	}
	issued := func(no string) int {
		c, err := clearance.GetClearance(dir, &assetsv1.GetClearanceRequest{SchoolId: "s1", ClearanceId: clearances[no]})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, h := range c.Clearance.Held {
			if h.Kind == "issued" {
				n++
			}
		}
		return n
	}
	eventually(t, "the tape measure in T001's holdings", func() bool { return issued("T001") == 1 })
	if n := issued("T002"); n != 0 {
		t.Errorf("T002 holds %d issued items", n)
	}

	// Someone who left is no longer staff to lend to, but can still be cleared.
	if _, err := ledger.RecordStaffLeft(dir, &assetsv1.RecordStaffLeftRequest{RequestId: "left-00000001", SchoolId: "s1",
		StaffNo: "T003", LeftOn: day(0)}); err != nil {
		t.Fatal(err)
	}
	a3 := e.asset(t, "s1", "ZC-3")
	_, err = lending.LendAsset(keeper, &assetsv1.LendAssetRequest{RequestId: "lend-00000003", SchoolId: "s1", AssetId: a3,
		Borrower: "王老师", DueOn: day(5)})
	wantRule(t, err, "STAFF_UNKNOWN")
	_, err = ledger.RecordStaffLeft(dir, &assetsv1.RecordStaffLeftRequest{RequestId: "left-00000002", SchoolId: "s1",
		StaffNo: "T003", LeftOn: day(0)})
	wantRule(t, err, "STAFF_ALREADY_LEFT")
	if _, err := clearance.StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: "clearance-t003", SchoolId: "s1",
		Person: "王老师", LeavingOn: day(0)}); err != nil {
		t.Fatal(err)
	}
}
