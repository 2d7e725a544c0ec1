package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func charge() ChargeDamage {
	return ChargeDamage{ChargeID: "c1", LiableKind: LiablePerson, Liable: "王小明", ClassName: "三年级2班",
		Description: "屏幕被砸裂", Intentional: true, DamagedOn: "2025-03-09"}
}

func givenDamage(events ...proto.Message) DamageCharge {
	d := DamageCharge{ID: "c1"}
	for _, e := range events {
		d = EvolveDamage(d, e)
	}
	return d
}

func charged(t *testing.T, c ChargeDamage) *eventsv1.DamageCharged {
	t.Helper()
	ev, err := DecideChargeDamage(givenDamage(), given(registered()), c, today, custodyPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.DamageCharged)
}

func TestChargeDamageDefaultsToPolicyPrice(t *testing.T) {
	e := charged(t, charge())
	if e.AmountFen != 459900 || e.DefaultAmountFen != 459900 || e.AmountOverridden || e.ClassName != "三年级2班" || e.Tag != "ZC-2024-0001" {
		t.Fatalf("event %v", e)
	}
	half := CustodyPolicies{{Version: "half", EffectiveFrom: date(2020, 1, 1), DamageRateBP: 5000}}
	ev, _ := DecideChargeDamage(givenDamage(), given(registered()), charge(), today, half.At(today))
	if got := ev[0].(*eventsv1.DamageCharged).AmountFen; got != 229950 {
		t.Fatalf("half rate: %d", got)
	}
	c := charge()
	c.AmountFen = 10000
	if e := charged(t, c); e.AmountFen != 10000 || !e.AmountOverridden {
		t.Fatalf("given amount: %v", e)
	}
	c = charge()
	c.LiableKind, c.Liable, c.ClassName = LiableClass, "三年级2班", ""
	if e := charged(t, c); e.ClassName != "三年级2班" {
		t.Fatalf("class charge: %v", e)
	}
}

func TestChargeDamageRefusals(t *testing.T) {
	c := charge()
	c.LiableKind, c.Description, c.DamagedOn, c.AmountFen = "", "", "2025-03-11", -1
	_, err := DecideChargeDamage(givenDamage(), given(registered()), c, today, custodyPolicy)
	wantViolations(t, err, "liable_kind", "description", "damaged_on", "amount_fen")
	c = charge()
	c.LiableKind, c.Liable, c.ClassName = LiableClass, "三年级2班", "四年级1班"
	_, err = DecideChargeDamage(givenDamage(), given(registered()), c, today, custodyPolicy)
	wantViolations(t, err, "class_name")
	_, err = DecideChargeDamage(givenDamage(charged(t, charge())), given(registered()), charge(), today, custodyPolicy)
	wantReason(t, err, ReasonDamageExists)
}

func TestDamagePaymentsToSettlement(t *testing.T) {
	d := givenDamage(charged(t, charge()))
	ev, err := DecideRecordDamagePayment(d, RecordDamagePayment{AmountFen: 400000, ReceiptNo: "R1"}, today)
	if err != nil || len(ev) != 1 {
		t.Fatalf("%v %v", ev, err)
	}
	d = givenDamage(charged(t, charge()), ev[0])
	if d.Outstanding() != 59900 || d.Status() != DamagePartiallyPaid {
		t.Fatalf("after partial payment %+v", d)
	}
	_, err = DecideRecordDamagePayment(d, RecordDamagePayment{AmountFen: 60000}, today)
	wantReason(t, err, ReasonDamageOverpaid)
	_, err = DecideRecordDamagePayment(d, RecordDamagePayment{AmountFen: 0}, today)
	wantViolations(t, err, "amount_fen")
	ev2, err := DecideRecordDamagePayment(d, RecordDamagePayment{AmountFen: 59900}, today)
	if err != nil || len(ev2) != 2 {
		t.Fatalf("%v %v", ev2, err)
	}
	s := ev2[1].(*eventsv1.DamageSettled)
	if s.PaidTotalFen != 459900 || s.WaivedFen != 0 || s.ClassName != "三年级2班" {
		t.Fatalf("settled %v", s)
	}
	d = EvolveDamage(EvolveDamage(d, ev2[0]), ev2[1])
	if d.Status() != DamageSettled || d.Outstanding() != 0 {
		t.Fatalf("after settlement %+v", d)
	}
	_, err = DecideRecordDamagePayment(d, RecordDamagePayment{AmountFen: 1}, today)
	wantReason(t, err, ReasonDamageSettled)
	_, err = DecideWaiveDamage(d, WaiveDamage{Reason: "家庭困难"}, today)
	wantReason(t, err, ReasonDamageSettled)
}

func TestWaiveDamage(t *testing.T) {
	pay, _ := DecideRecordDamagePayment(givenDamage(charged(t, charge())), RecordDamagePayment{AmountFen: 100000}, today)
	d := givenDamage(charged(t, charge()), pay[0])
	_, err := DecideWaiveDamage(d, WaiveDamage{}, today)
	wantViolations(t, err, "reason")
	ev, err := DecideWaiveDamage(d, WaiveDamage{Reason: "家庭困难", WaivedBy: "principal-1"}, today)
	if err != nil {
		t.Fatal(err)
	}
	w := ev[0].(*eventsv1.DamageWaived)
	if w.WaivedFen != 359900 || w.WaivedBy != "principal-1" {
		t.Fatalf("waived %v", w)
	}
	d = EvolveDamage(EvolveDamage(d, ev[0]), ev[1])
	if d.Status() != DamageSettled || d.PaidFen != 100000 || d.WaivedFen != 359900 || d.WaiverReason != "家庭困难" {
		t.Fatalf("after waiver %+v", d)
	}
	_, err = DecideWaiveDamage(givenDamage(), WaiveDamage{Reason: "x"}, today)
	if err == nil {
		t.Fatal("waiver of a charge that does not exist")
	}
}
