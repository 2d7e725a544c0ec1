package service_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

func TestFeesAuthorization(t *testing.T) {
	e := start(t)
	testkit.AuthorizationMatrix(t, e.conn, "houqin.procurement.v1.FeesService", e.auth, auth.Table, "s1", "s2")
}

func TestFeesSettlement(t *testing.T) {
	e := start(t)
	fees := procurementv1.NewFeesServiceClient(e.conn)
	accountant := e.as(t, auth.RoleAccountant, "s1")
	principal := e.as(t, auth.RolePrincipal, "s1")
	teacher := e.as(t, auth.RoleTeacher, "s1")

	// 作业本费 collected on behalf: 30.00 yuan per student, published today.
	std := &procurementv1.PublishFeeStandardRequest{RequestId: "fee-00000001", SchoolId: "s1", Term: "2025-2026-1", Item: "作业本费",
		Kind: "on_behalf", AmountPerStudentFen: 3000, Basis: "县发改委〔2025〕12号", ApprovalDocument: "县教育局批复2025-08"}
	pub, err := fees.PublishFeeStandard(accountant, std)
	if err != nil {
		t.Fatal(err)
	}
	std.RequestId = "fee-00000002"
	if _, err := fees.PublishFeeStandard(principal, std); status.Code(err) != codes.FailedPrecondition || reason(err) != "FEE_STANDARD_EXISTS" {
		t.Fatalf("second standard for the term: %v", err)
	}
	got, err := fees.GetFee(teacher, &procurementv1.GetFeeRequest{SchoolId: "s1", FeeId: pub.FeeId})
	if err != nil {
		t.Fatal(err)
	}
	today := got.Fee.PublishedOn

	// Collections: at the published amount only, never for an unknown fee or before publication.
	collect := func(req, class string, n, amount int64, on string, ids ...string) (*procurementv1.RecordFeeCollectionResponse, error) {
		return fees.RecordFeeCollection(teacher, &procurementv1.RecordFeeCollectionRequest{RequestId: req, SchoolId: "s1", FeeId: pub.FeeId,
			ClassName: class, StudentCount: n, StudentIds: ids, AmountFen: amount, CollectedOn: on})
	}
	if _, err := collect("fee-00000003", "三年级一班", 40, 120000, today); err != nil {
		t.Fatal(err)
	}
	res, err := collect("fee-00000004", "三年级二班", 2, 6000, today, "G0201", "G0202")
	if err != nil || res.CollectedTotalFen != 126000 {
		t.Fatalf("second class: %v %v", res, err)
	}
	if _, err := collect("fee-00000005", "三年级二班", 1, 2500, today); reason(err) != "FEE_AMOUNT_MISMATCH" {
		t.Fatalf("wrong amount: %v", err)
	}
	if _, err := collect("fee-00000006", "三年级二班", 1, 3000, "2025-08-01"); reason(err) != "FEE_NOT_PUBLISHED" {
		t.Fatalf("before publication: %v", err)
	}
	_, err = fees.RecordFeeCollection(teacher, &procurementv1.RecordFeeCollectionRequest{RequestId: "fee-00000007", SchoolId: "s1",
		FeeId: "0192f0c4-0000-7000-8000-0000000000ff", ClassName: "一班", StudentCount: 1, AmountFen: 3000, CollectedOn: today})
	if reason(err) != "FEE_NOT_PUBLISHED" {
		t.Fatalf("unpublished fee: %v", err)
	}
	_, err = collect("x", "", 0, 0, "")
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[amount_fen class_name collected_on request_id student_count]" {
		t.Fatalf("bad collection: %v %v", err, fields(err))
	}

	// Settlement: 126000 collected, 121800 spent: the 4200 surplus is refunded at 100 fen per student.
	settle := &procurementv1.SettleFeesRequest{RequestId: "fee-00000008", SchoolId: "s1", FeeId: pub.FeeId, SpentFen: 121800, SettledOn: today,
		Refunds: []*procurementv1.FeeRefund{{ClassName: "三年级一班", StudentCount: 40, AmountFen: 4000}, {ClassName: "三年级二班", StudentCount: 2, AmountFen: 199}}}
	if _, err := fees.SettleFees(accountant, settle); reason(err) != "FEE_REFUNDS_NOT_SURPLUS" {
		t.Fatalf("refunds short of the surplus: %v", err)
	}
	settle.RequestId, settle.Refunds[1].AmountFen = "fee-00000009", 200
	st, err := fees.SettleFees(accountant, settle)
	if err != nil || st.CollectedFen != 126000 || st.SurplusFen != 4200 {
		t.Fatalf("settle: %v %v", st, err)
	}
	settle.RequestId = "fee-00000010"
	if _, err := fees.SettleFees(accountant, settle); reason(err) != "FEE_ALREADY_SETTLED" {
		t.Fatalf("settling twice: %v", err)
	}
	if _, err := collect("fee-00000011", "三年级三班", 1, 3000, today); reason(err) != "FEE_ALREADY_SETTLED" {
		t.Fatalf("collection after settlement: %v", err)
	}
	// Published only after the principal's approval.
	if _, err := fees.PublishFeeSettlement(accountant, &procurementv1.PublishFeeSettlementRequest{RequestId: "fee-00000012", SchoolId: "s1",
		FeeId: pub.FeeId}); reason(err) != "FEE_SETTLEMENT_NOT_PENDING" {
		t.Fatalf("publishing before approval: %v", err)
	}
	if _, err := fees.ApproveFeeSettlement(accountant, &procurementv1.ApproveFeeSettlementRequest{RequestId: "fee-00000013", SchoolId: "s1",
		FeeId: pub.FeeId}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("accountant approving: %v", err)
	}
	if _, err := fees.ApproveFeeSettlement(principal, &procurementv1.ApproveFeeSettlementRequest{RequestId: "fee-00000014", SchoolId: "s1",
		FeeId: pub.FeeId}); err != nil {
		t.Fatal(err)
	}
	if _, err := fees.PublishFeeSettlement(accountant, &procurementv1.PublishFeeSettlementRequest{RequestId: "fee-00000015", SchoolId: "s1",
		FeeId: pub.FeeId}); err != nil {
		t.Fatal(err)
	}
	got, err = fees.GetFee(principal, &procurementv1.GetFeeRequest{SchoolId: "s1", FeeId: pub.FeeId})
	if err != nil || got.Fee.SettlementStatus != "published" || got.Fee.Students != 42 || len(got.Fee.Classes) != 2 || len(got.Fee.Refunds) != 2 ||
		got.Fee.SpentFen != 121800 || got.Fee.Version != 6 {
		t.Fatalf("fee: %v %v", got, err)
	}
	// Another school sees nothing.
	if _, err := fees.GetFee(e.as(t, auth.RolePrincipal, "s2"), &procurementv1.GetFeeRequest{SchoolId: "s2", FeeId: pub.FeeId}); status.Code(err) != codes.NotFound {
		t.Fatalf("other school: %v", err)
	}
	if _, broken, err := e.svc.Store().VerifyAll(context.Background()); err != nil || len(broken) != 0 {
		t.Fatalf("verify: %v %v", broken, err)
	}
}
