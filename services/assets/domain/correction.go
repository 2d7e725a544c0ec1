package domain

import (
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of correction refusals.
const (
	// A correction that changes nothing.
	ReasonCorrectionNoChange errs.Reason = "CORRECTION_CHANGES_NOTHING"
	// The registration was reversed: the asset is not in the ledger.
	ReasonRegistrationReversed errs.Reason = "REGISTRATION_REVERSED"
)

// CorrectRegistration 更正登记: empty or zero fields keep the registered value.
type CorrectRegistration struct {
	Reason        string
	Name          string
	Category      string
	Model         string
	UnitPriceFen  int64
	Quantity      int64
	AcquiredOn    string
	FundingSource string
}

// values returns the registration values of a.
func (a Asset) values() *eventsv1.RegistrationValues {
	return &eventsv1.RegistrationValues{Name: a.Name, Category: a.Category, Model: a.Model, UnitPriceFen: a.UnitPriceFen,
		Quantity: a.Quantity, AcquiredOn: a.AcquiredOn, FundingSource: a.FundingSource, FixedAsset: a.FixedAsset,
		DepreciationMonths: int32(a.DepreciationMonths), DepreciationStart: a.DepreciationStart, LifeVersion: a.LifeVersion}
}

// apply returns the registration command of a's values after c, so the corrected values are
// judged as a registration is. Tag, source, location and custodian are not corrected here and
// stand in as placeholders.
func (c CorrectRegistration) apply(a Asset) RegisterAsset {
	r := RegisterAsset{AssetID: a.ID, SchoolID: a.SchoolID, Tag: "-", Name: or(c.Name, a.Name), Category: or(c.Category, a.Category),
		Model: or(c.Model, a.Model), UnitPriceFen: a.UnitPriceFen, Quantity: a.Quantity, AcquiredOn: or(c.AcquiredOn, a.AcquiredOn),
		Source: "purchase", FundingSource: or(c.FundingSource, a.FundingSource), Location: "-", Custodian: "-",
		ExpectedUseMonths: a.ExpectedUseMonths}
	if c.UnitPriceFen != 0 {
		r.UnitPriceFen = c.UnitPriceFen
	}
	if c.Quantity != 0 {
		r.Quantity = c.Quantity
	}
	return r
}

func checkReason(reason string) error {
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 {
		return errs.Invalid("reason", "原因须为2–200个字 / reason must be 2–200 characters")
	}
	return nil
}

// DecideCorrectRegistration decides a correction. r holds the policy in force on the corrected
// acquisition date and today's date; the correction is dated today.
func DecideCorrectRegistration(a Asset, c CorrectRegistration, r RegisterRules) ([]proto.Message, error) {
	reg := c.apply(a)
	r.Campus = Campus{} // the location is not corrected here
	ev, err := DecideRegisterAsset(Asset{}, reg, r)
	if err := errs.Join(checkReason(c.Reason), keepInvalid(err)); err != nil {
		return nil, err
	}
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	e := ev[0].(*eventsv1.AssetRegistered)
	after := &eventsv1.RegistrationValues{Name: e.Name, Category: e.Category, Model: e.Model, UnitPriceFen: e.UnitPriceFen,
		Quantity: e.Quantity, AcquiredOn: e.AcquiredOn, FundingSource: e.FundingSource, FixedAsset: e.FixedAsset,
		DepreciationMonths: e.DepreciationMonths, DepreciationStart: e.DepreciationStart, LifeVersion: e.LifeVersion}
	before := a.values()
	if proto.Equal(before, after) {
		return nil, errs.Rule(ReasonCorrectionNoChange, "更正前后登记内容相同 / the correction changes nothing")
	}
	return []proto.Message{&eventsv1.AssetRegistrationCorrected{AssetId: a.ID, Reason: c.Reason,
		CorrectedOn: r.Today.Format(DateLayout), Before: before, After: after}}, nil
}

// keepInvalid returns err if it is invalid input, nil otherwise.
func keepInvalid(err error) error {
	if _, ok := errs.As[*errs.InvalidError](err); ok {
		return err
	}
	return nil
}

// DecideReverseRegistration cancels a wrong registration on today.
func DecideReverseRegistration(a Asset, reason string, today time.Time) ([]proto.Message, error) {
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.AssetRegistrationReversed{AssetId: a.ID, Reason: reason,
		ReversedOn: today.Format(DateLayout), Before: a.values()}}, nil
}

// evolveCorrection folds corrections into an asset.
func evolveCorrection(a Asset, m proto.Message) (Asset, bool) {
	switch e := m.(type) {
	case *eventsv1.AssetRegistrationCorrected:
		v := e.After
		a.Name, a.Category, a.Model, a.UnitPriceFen, a.Quantity = v.Name, v.Category, v.Model, v.UnitPriceFen, v.Quantity
		a.AcquiredOn, a.FundingSource, a.FixedAsset = v.AcquiredOn, v.FundingSource, v.FixedAsset
		a.DepreciationMonths, a.DepreciationStart, a.LifeVersion = int(v.DepreciationMonths), v.DepreciationStart, v.LifeVersion
	case *eventsv1.AssetRegistrationReversed:
		a.Reversed = true
		a.Lending.OffLedger = true // out of the ledger for loans, stocktakes and holdings
	default:
		return a, false
	}
	return a, true
}
