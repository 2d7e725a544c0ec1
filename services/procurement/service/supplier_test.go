package service_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// supplier registers a supplier whose licences expire on expires and returns its id.
func (e *env) supplier(t *testing.T, req, code, expires string) string {
	t.Helper()
	res, err := e.client.RegisterSupplier(e.as(t, auth.RoleBureauAdmin, ""), supplierReq(req, code, expires))
	if err != nil {
		t.Fatal(err)
	}
	return res.SupplierId
}

func supplierReq(req, code, expires string) *procurementv1.RegisterSupplierRequest {
	return &procurementv1.RegisterSupplierRequest{RequestId: req, Name: "城关文具批发部" + code[len(code)-2:], CreditCode: code,
		Contact: "王经理", Phone: "0351-1234567",
		Licences: []*procurementv1.Licence{{Kind: "business_licence", Number: "BL-" + code, ExpiresOn: expires}}}
}

func TestSupplierDirectory(t *testing.T) {
	e := start(t)
	admin := e.as(t, auth.RoleBureauAdmin, "")
	id := e.supplier(t, "sup-00000001", "91140100MA0K000001", "2099-12-31")

	// A school reads the directory and sees the supplier usable.
	get := func(asOf string) *procurementv1.Supplier {
		t.Helper()
		res, err := e.client.GetSupplier(e.as(t, auth.RoleLogisticsDirector, "s1"), &procurementv1.GetSupplierRequest{SchoolId: "s1", SupplierId: id, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		return res.Supplier
	}
	if s := get(""); !s.Usable || s.CreditCode != "91140100MA0K000001" || len(s.Licences) != 1 || s.Version != 1 {
		t.Fatalf("supplier %v", s)
	}

	// The same credit code cannot be registered twice; the same request id answers the first result.
	again, err := e.client.RegisterSupplier(admin, supplierReq("sup-00000001", "91140100MA0K000001", "2099-12-31"))
	if err != nil || again.SupplierId != id {
		t.Fatalf("repeat: %v %v", again, err)
	}
	_, err = e.client.RegisterSupplier(admin, supplierReq("sup-00000002", "91140100MA0K000001", "2099-12-31"))
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "SUPPLIER_CREDIT_CODE_TAKEN" {
		t.Fatalf("duplicate credit code: %v", err)
	}

	// Bad input: every field named.
	bad := supplierReq("sup-00000003", "abc", "31/12/2099")
	bad.Name = ""
	_, err = e.client.RegisterSupplier(admin, bad)
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[credit_code licences[0].expires_on name]" {
		t.Fatalf("bad input: %v %v", err, fields(err))
	}

	// An expired licence makes the supplier unusable after its last day; renewing fixes it.
	old := e.supplier(t, "sup-00000004", "91140100MA0K000002", "2020-06-30")
	res, err := e.client.GetSupplier(admin, &procurementv1.GetSupplierRequest{SupplierId: old, AsOf: "2020-06-30"})
	if err != nil || !res.Supplier.Usable {
		t.Fatalf("on its last day: %v %v", res, err)
	}
	res, err = e.client.GetSupplier(admin, &procurementv1.GetSupplierRequest{SupplierId: old, AsOf: "2020-07-01"})
	if err != nil || res.Supplier.Usable || res.Supplier.UnusableReason != "SUPPLIER_LICENCE_EXPIRED" {
		t.Fatalf("after expiry: %v %v", res, err)
	}
	if _, err := e.client.RenewSupplierLicence(admin, &procurementv1.RenewSupplierLicenceRequest{RequestId: "sup-00000005", SupplierId: old,
		Licence: &procurementv1.Licence{Kind: "business_licence", Number: "BL-NEW", ExpiresOn: "2099-01-01"}}); err != nil {
		t.Fatal(err)
	}
	res, _ = e.client.GetSupplier(admin, &procurementv1.GetSupplierRequest{SupplierId: old, AsOf: "2020-07-01"})
	if !res.Supplier.Usable || len(res.Supplier.Licences) != 1 || res.Supplier.Licences[0].Number != "BL-NEW" {
		t.Fatalf("after renewal: %v", res.Supplier)
	}

	// Blacklisted: unusable; reinstated: usable again. Reinstating twice is refused.
	if _, err := e.client.BlacklistSupplier(admin, &procurementv1.BlacklistSupplierRequest{RequestId: "sup-00000006", SupplierId: id, Reason: "以次充好"}); err != nil {
		t.Fatal(err)
	}
	if s := get(""); s.Usable || !s.Blacklisted || s.UnusableReason != "SUPPLIER_BLACKLISTED" || s.BlacklistReason != "以次充好" {
		t.Fatalf("blacklisted: %v", s)
	}
	if _, err := e.client.ReinstateSupplier(admin, &procurementv1.ReinstateSupplierRequest{RequestId: "sup-00000007", SupplierId: id, Reason: "整改合格"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.ReinstateSupplier(admin, &procurementv1.ReinstateSupplierRequest{RequestId: "sup-00000008", SupplierId: id, Reason: "整改合格"})
	if reason(err) != "SUPPLIER_NOT_BLACKLISTED" {
		t.Fatalf("reinstating twice: %v", err)
	}
	if s := get(""); !s.Usable {
		t.Fatalf("reinstated: %v", s)
	}
	// Schools may not maintain the directory.
	_, err = e.client.BlacklistSupplier(e.as(t, auth.RolePrincipal, "s1"), &procurementv1.BlacklistSupplierRequest{RequestId: "sup-00000009", SupplierId: id, Reason: "差评"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("principal blacklisting: %v", err)
	}
	// An unknown supplier.
	_, err = e.client.GetSupplier(admin, &procurementv1.GetSupplierRequest{SupplierId: "0192f0c4-0000-7000-8000-000000000000"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown: %v", err)
	}
	n, broken, err := e.svc.Store().VerifyAll(context.Background())
	if err != nil || len(broken) != 0 || n != 2 {
		t.Fatalf("verify: %d %v %v", n, broken, err)
	}
}
