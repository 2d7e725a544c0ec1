package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// worth registers an asset of value fen (unit price × 1).
func worth(fen int64) *eventsv1.AssetRegistered {
	c := validRegister()
	c.UnitPriceFen = fen
	ev, err := DecideRegisterAsset(Asset{ID: "a1"}, c, rulesAt(today))
	if err != nil {
		panic(err)
	}
	return ev[0].(*eventsv1.AssetRegistered)
}

func requestWriteOff(t *testing.T, a Asset) *eventsv1.WriteOffRequested {
	t.Helper()
	ev, err := DecideRequestWriteOff(a, RequestWriteOff{WriteOffID: "w1", Kind: "scrap", Reason: "主板损坏无法修复", ResidualFen: 5000,
		Requester: "director"}, today, DefaultPolicies.At(today))
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.WriteOffRequested)
}

var (
	vice      = Approver{Subject: "vice", Roles: []string{"vice_principal"}}
	principal = Approver{Subject: "head", Roles: []string{"principal"}}
	bureau1   = Approver{Subject: "bureau-1", Roles: []string{"bureau_admin"}}
	bureau2   = Approver{Subject: "finance-1", Roles: []string{"bureau_admin"}}
)

func TestWriteOffTiers(t *testing.T) {
	for _, tc := range []struct {
		fen   int64
		tier  string
		steps []Approver
	}{
		{2_000_000, "vice_principal", []Approver{vice}},
		{2_000_001, "principal", []Approver{principal}},
		{20_000_000, "office_meeting", []Approver{principal}},
		{20_000_001, "bureau", []Approver{bureau1, bureau2}},
	} {
		a := given(worth(tc.fen))
		req := requestWriteOff(t, a)
		if req.Tier != tc.tier || len(req.Steps) != len(tc.steps) || req.ValueFen != tc.fen || req.PolicyVersion != "cap-2022" ||
			req.Requester != "director" || req.RequestedOn != "2025-03-10" {
			t.Fatalf("%d fen: %v", tc.fen, req)
		}
		a = EvolveAsset(a, req)
		for i, who := range tc.steps {
			ev, err := DecideApproveWriteOff(a, "w1", who, "同意", today)
			if err != nil {
				t.Fatalf("%s step %d: %v", tc.tier, i, err)
			}
			last := i == len(tc.steps)-1
			if (len(ev) == 2) != last {
				t.Fatalf("%s step %d: %d events", tc.tier, i, len(ev))
			}
			ap := ev[0].(*eventsv1.WriteOffStepApproved)
			if ap.Step != req.Steps[i] || ap.Approver != who.Subject || ap.Tier != tc.tier || ap.PolicyVersion != "cap-2022" {
				t.Fatalf("approval %v", ap)
			}
			if last {
				w := ev[1].(*eventsv1.AssetWrittenOff)
				if w.ValueFen != tc.fen || w.ResidualValueFen != 5000 || w.Tier != tc.tier || w.WrittenOffOn != "2025-03-10" {
					t.Fatalf("written off %v", w)
				}
			}
			for _, e := range ev {
				a = EvolveAsset(a, e)
			}
		}
		if !a.Lending.OffLedger || a.InLedger() {
			t.Fatalf("%s: still in the ledger", tc.tier)
		}
	}
}

func TestWriteOffRefusals(t *testing.T) {
	a := given(worth(3_000_000)) // principal's tier
	_, err := DecideRequestWriteOff(a, RequestWriteOff{Kind: "lost", Reason: "x", ResidualFen: 3_000_001}, today, DefaultPolicies.At(today))
	wantViolations(t, err, "kind", "reason", "residual_value_fen")
	_, err = DecideRequestWriteOff(given(), RequestWriteOff{Kind: "loss", Reason: "遗失"}, today, DefaultPolicies.At(today))
	if err == nil {
		t.Fatal("write-off of an unregistered asset")
	}
	a = EvolveAsset(a, requestWriteOff(t, a))
	_, err = DecideRequestWriteOff(a, RequestWriteOff{Kind: "loss", Reason: "遗失"}, today, DefaultPolicies.At(today))
	wantReason(t, err, ReasonWriteOffPending)

	_, err = DecideApproveWriteOff(a, "w1", vice, "", today)
	wantReason(t, err, ReasonApproverRoleRequired)
	_, err = DecideApproveWriteOff(a, "w1", Approver{Subject: "director", Roles: []string{"principal", "logistics_director"}}, "", today)
	wantReason(t, err, ReasonApproverNotIndependent)
	_, err = DecideApproveWriteOff(a, "w2", principal, "", today)
	wantReason(t, err, ReasonWriteOffNotPending)
	_, err = DecideApproveWriteOff(a, "w1", principal, string(make([]rune, 201)), today)
	wantViolations(t, err, "comment")

	// Rejected: the asset stays, and a new request may follow.
	ev, err := DecideRejectWriteOff(a, "w1", principal, "尚可维修使用")
	if err != nil {
		t.Fatal(err)
	}
	rejected := EvolveAsset(a, ev[0])
	if rejected.WriteOff != nil || !rejected.InLedger() {
		t.Fatalf("after rejection %+v", rejected)
	}
	_, err = DecideRejectWriteOff(a, "w1", vice, "不同意")
	wantReason(t, err, ReasonApproverRoleRequired)
	_, err = DecideRejectWriteOff(a, "w1", principal, "")
	wantViolations(t, err, "reason")

	// The bureau tier needs two different people.
	b := given(worth(30_000_000))
	b = EvolveAsset(b, requestWriteOff(t, b))
	ev, _ = DecideApproveWriteOff(b, "w1", bureau1, "", today)
	b = EvolveAsset(b, ev[0])
	_, err = DecideApproveWriteOff(b, "w1", bureau1, "", today)
	wantReason(t, err, ReasonApproverNotIndependent)

	// Written off: no transfer, no second write-off, disposal once.
	ev, _ = DecideApproveWriteOff(a, "w1", principal, "", today)
	for _, e := range ev {
		a = EvolveAsset(a, e)
	}
	_, err = DecideTransferAsset(a, TransferAsset{ToLocation: "仓库"}, Campus{}, today)
	wantReason(t, err, ReasonAssetWrittenOff)
	_, err = DecideRequestWriteOff(a, RequestWriteOff{Kind: "loss", Reason: "遗失"}, today, DefaultPolicies.At(today))
	wantReason(t, err, ReasonAssetWrittenOff)
	_, err = DecideApproveWriteOff(a, "w1", principal, "", today)
	wantReason(t, err, ReasonAssetWrittenOff)

	_, err = DecideRecordDisposal(a, RecordDisposal{WriteOffID: "w1", Method: "burn", ProceedsFen: -1, DisposedOn: "2025-03-11", Note: ""}, today)
	wantViolations(t, err, "method", "proceeds_fen", "disposed_on")
	_, err = DecideRecordDisposal(rejected, RecordDisposal{WriteOffID: "w1", Method: "recycle", DisposedOn: "2025-03-10"}, today)
	wantReason(t, err, ReasonDisposalNotAllowed)
	ev, err = DecideRecordDisposal(a, RecordDisposal{WriteOffID: "w1", Method: "recycle", ProceedsFen: 4000, DisposedOn: "2025-03-10"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if d := ev[0].(*eventsv1.WriteOffDisposed); d.ProceedsFen != 4000 || d.Method != "recycle" {
		t.Fatalf("disposal %v", d)
	}
	a = EvolveAsset(a, ev[0])
	_, err = DecideRecordDisposal(a, RecordDisposal{WriteOffID: "w1", Method: "recycle", DisposedOn: "2025-03-10"}, today)
	wantReason(t, err, ReasonDisposalNotAllowed)
	var _ proto.Message = ev[0]
}
