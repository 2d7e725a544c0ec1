package domain

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of damage refusals (损坏赔偿).
const (
	// The charge is paid or waived in full: nothing more can be paid or waived.
	ReasonDamageSettled errs.Reason = "DAMAGE_ALREADY_SETTLED"
	// A payment above what is outstanding.
	ReasonDamageOverpaid errs.Reason = "DAMAGE_PAYMENT_EXCEEDS_OUTSTANDING"
	// The charge id was used before.
	ReasonDamageExists errs.Reason = "DAMAGE_CHARGE_EXISTS"
	// The policy's default amount is zero (a free asset) and no amount was given.
	ReasonDamageNoAmount errs.Reason = "DAMAGE_AMOUNT_REQUIRED"
)

// Liable kinds.
const (
	LiablePerson = "person"
	LiableClass  = "class"
)

// Damage statuses.
const (
	DamageOpen          = "open"
	DamagePartiallyPaid = "partially_paid"
	DamageSettled       = "settled"
)

// DamageCharge is one damage charge (赔偿单).
type DamageCharge struct {
	ID           string
	AssetID      string
	Tag          string
	AssetName    string
	LiableKind   string
	Liable       string
	ClassName    string
	AmountFen    int64
	PaidFen      int64
	WaivedFen    int64
	WaiverReason string
	DamagedOn    string
	Charged      bool
	Settled      bool
}

// Outstanding is what is still to be paid.
func (d DamageCharge) Outstanding() int64 { return d.AmountFen - d.PaidFen - d.WaivedFen }

// Status is open, partially_paid or settled.
func (d DamageCharge) Status() string {
	switch {
	case d.Settled:
		return DamageSettled
	case d.PaidFen > 0:
		return DamagePartiallyPaid
	}
	return DamageOpen
}

// EvolveDamage folds one event into a charge.
func EvolveDamage(d DamageCharge, m proto.Message) DamageCharge {
	switch e := m.(type) {
	case *eventsv1.DamageCharged:
		d = DamageCharge{ID: e.ChargeId, AssetID: e.AssetId, Tag: e.Tag, AssetName: e.AssetName, LiableKind: e.LiableKind,
			Liable: e.Liable, ClassName: e.ClassName, AmountFen: e.AmountFen, DamagedOn: e.DamagedOn, Charged: true}
	case *eventsv1.DamagePaymentRecorded:
		d.PaidFen = e.PaidTotalFen
	case *eventsv1.DamageWaived:
		d.WaivedFen += e.WaivedFen
		d.WaiverReason = e.Reason
	case *eventsv1.DamageSettled:
		d.Settled = true
	}
	return d
}

// ChargeDamage 损坏赔偿: AmountFen 0 takes the policy's default.
type ChargeDamage struct {
	ChargeID    string
	LiableKind  string
	Liable      string
	ClassName   string
	AmountFen   int64
	Description string
	Intentional bool
	DamagedOn   string
}

// DefaultDamageFen is the policy's charge for damage of asset a: its unit price times the rate.
func DefaultDamageFen(a Asset, p CustodyPolicy) int64 { return a.UnitPriceFen * p.DamageRateBP / 10000 }

// DecideChargeDamage decides a charge for damage of asset a (loaded by the caller).
func DecideChargeDamage(d DamageCharge, a Asset, c ChargeDamage, today Day, p CustodyPolicy) ([]proto.Message, error) {
	var v errs.Violations
	switch c.LiableKind {
	case LiablePerson:
		person(&v, "liable", c.Liable, "liable person")
	case LiableClass:
		person(&v, "liable", c.Liable, "liable class")
		if c.ClassName != "" && c.ClassName != c.Liable {
			v.Add("class_name", "班级赔偿时班级须与责任方一致 / for a class, class_name must be the class itself")
		}
	default:
		v.Add("liable_kind", "请选择个人或班级 / liable_kind must be person or class")
	}
	optional(&v, "class_name", c.ClassName, 60)
	if c.AmountFen < 0 || c.AmountFen > MaxUnitPriceFen {
		v.Add("amount_fen", "金额须为0–1亿元 / amount must be 0–100,000,000 yuan")
	}
	if strings.TrimSpace(c.Description) == "" {
		v.Add("description", "请说明损坏情况 / description is required")
	}
	optional(&v, "description", c.Description, 500)
	if day, ok := ParseDay(c.DamagedOn); !ok {
		v.Add("damaged_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if day.After(today) {
		v.Add("damaged_on", "不能晚于今天 / cannot be in the future")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if d.Charged {
		return nil, errs.Rule(ReasonDamageExists, "赔偿单已存在 / the charge exists already", "charge_id", d.ID)
	}
	if !a.Registered {
		return nil, errs.NotFound("asset", a.ID)
	}
	def := DefaultDamageFen(a, p)
	amount := c.AmountFen
	if amount == 0 {
		amount = def
	}
	if amount == 0 {
		return nil, errs.Rule(ReasonDamageNoAmount, "请填写赔偿金额 / give the amount: the policy's default is zero",
			"policy_version", p.Version)
	}
	class := c.ClassName
	if c.LiableKind == LiableClass {
		class = c.Liable
	}
	return []proto.Message{&eventsv1.DamageCharged{ChargeId: c.ChargeID, AssetId: a.ID, Tag: a.Tag, AssetName: a.Name,
		LiableKind: c.LiableKind, Liable: c.Liable, ClassName: class, AmountFen: amount, DefaultAmountFen: def,
		AmountOverridden: c.AmountFen != 0 && c.AmountFen != def, Description: c.Description,
		Intentional: c.Intentional, DamagedOn: c.DamagedOn}}, nil
}

// RecordDamagePayment records a payment (partial payments allowed).
type RecordDamagePayment struct {
	AmountFen int64
	ReceiptNo string
}

// DecideRecordDamagePayment decides a payment made today.
func DecideRecordDamagePayment(d DamageCharge, c RecordDamagePayment, today Day) ([]proto.Message, error) {
	var v errs.Violations
	if c.AmountFen <= 0 {
		v.Add("amount_fen", "金额须大于0 / amount must be above 0")
	}
	optional(&v, "receipt_no", c.ReceiptNo, 40)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !d.Charged {
		return nil, errs.NotFound("damage charge", d.ID)
	}
	if d.Settled {
		return nil, errs.Rule(ReasonDamageSettled, "赔偿已结清 / the charge is settled", "charge_id", d.ID)
	}
	if c.AmountFen > d.Outstanding() {
		return nil, errs.Rule(ReasonDamageOverpaid, "缴纳金额超过未缴金额 / the payment exceeds what is outstanding",
			"outstanding_fen", itoa(d.Outstanding()))
	}
	paid := d.PaidFen + c.AmountFen
	out := d.AmountFen - paid - d.WaivedFen
	evs := []proto.Message{&eventsv1.DamagePaymentRecorded{ChargeId: d.ID, AmountFen: c.AmountFen, PaidOn: FormatDay(today),
		ReceiptNo: c.ReceiptNo, PaidTotalFen: paid, OutstandingFen: out, ClassName: d.ClassName}}
	if out == 0 {
		evs = append(evs, &eventsv1.DamageSettled{ChargeId: d.ID, PaidTotalFen: paid, WaivedFen: d.WaivedFen,
			SettledOn: FormatDay(today), ClassName: d.ClassName})
	}
	return evs, nil
}

// WaiveDamage 减免: waives everything outstanding.
type WaiveDamage struct {
	Reason   string
	WaivedBy string
}

// DecideWaiveDamage decides a waiver today; the caller's role (principal) is checked by the
// authorisation table.
func DecideWaiveDamage(d DamageCharge, c WaiveDamage, today Day) ([]proto.Message, error) {
	var v errs.Violations
	if strings.TrimSpace(c.Reason) == "" {
		v.Add("reason", "请说明减免理由 / reason is required")
	}
	optional(&v, "reason", c.Reason, 500)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !d.Charged {
		return nil, errs.NotFound("damage charge", d.ID)
	}
	if d.Settled {
		return nil, errs.Rule(ReasonDamageSettled, "赔偿已结清 / the charge is settled", "charge_id", d.ID)
	}
	waived := d.Outstanding()
	return []proto.Message{
		&eventsv1.DamageWaived{ChargeId: d.ID, WaivedFen: waived, Reason: c.Reason, WaivedBy: c.WaivedBy,
			WaivedOn: FormatDay(today), ClassName: d.ClassName},
		&eventsv1.DamageSettled{ChargeId: d.ID, PaidTotalFen: d.PaidFen, WaivedFen: d.WaivedFen + waived,
			SettledOn: FormatDay(today), ClassName: d.ClassName},
	}, nil
}
