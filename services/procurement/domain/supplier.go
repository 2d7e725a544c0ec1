package domain

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of supplier refusals. Stable: clients match on them.
const (
	// 统一社会信用代码已登记: another supplier of the directory has the credit code.
	ReasonCreditCodeTaken errs.Reason = "SUPPLIER_CREDIT_CODE_TAKEN"
	ReasonSupplierExists  errs.Reason = "SUPPLIER_ALREADY_REGISTERED"
	// The supplier is on the blacklist (黑名单) on the date in question.
	ReasonSupplierBlacklisted errs.Reason = "SUPPLIER_BLACKLISTED"
	// A licence of the supplier has expired on the date in question.
	ReasonSupplierLicenceExpired errs.Reason = "SUPPLIER_LICENCE_EXPIRED"
	ReasonSupplierNotBlacklisted errs.Reason = "SUPPLIER_NOT_BLACKLISTED"
)

// LicenceKinds are the licences a supplier may hold (证照).
var LicenceKinds = map[string]string{
	"business_licence": "营业执照",
	"food_business":    "食品经营许可证",
	"food_production":  "食品生产许可证",
	"production":       "工业产品生产许可证",
	"medical_device":   "医疗器械经营许可证",
	"other":            "其他资质",
}

// Licence is one licence of a supplier.
type Licence struct {
	Kind      string
	Number    string
	ExpiresOn string // YYYY-MM-DD, last valid day
}

// Supplier is one entry of the district's supplier directory (供应商名录).
type Supplier struct {
	ID              string
	Name            string
	CreditCode      string
	Contact         string
	Phone           string
	Licences        []Licence
	Blacklisted     bool
	BlacklistReason string
	BlacklistedOn   string
	Registered      bool
}

// EvolveSupplier folds one event into a supplier.
func EvolveSupplier(s Supplier, m proto.Message) Supplier {
	switch e := m.(type) {
	case *eventsv1.SupplierRegistered:
		s = Supplier{ID: e.SupplierId, Name: e.Name, CreditCode: e.CreditCode, Contact: e.Contact, Phone: e.Phone, Registered: true}
		for _, l := range e.Licences {
			s.Licences = append(s.Licences, Licence{Kind: l.Kind, Number: l.Number, ExpiresOn: l.ExpiresOn})
		}
	case *eventsv1.SupplierLicenceRenewed:
		l := Licence{Kind: e.Licence.GetKind(), Number: e.Licence.GetNumber(), ExpiresOn: e.Licence.GetExpiresOn()}
		s.Licences = append([]Licence(nil), s.Licences...)
		replaced := false
		for i := range s.Licences {
			if s.Licences[i].Kind == l.Kind {
				s.Licences[i], replaced = l, true
			}
		}
		if !replaced {
			s.Licences = append(s.Licences, l)
		}
	case *eventsv1.SupplierBlacklisted:
		s.Blacklisted, s.BlacklistReason, s.BlacklistedOn = true, e.Reason, e.BlacklistedOn
	case *eventsv1.SupplierReinstated:
		s.Blacklisted, s.BlacklistReason, s.BlacklistedOn = false, "", ""
	}
	return s
}

// UsableOn says whether an order may be placed with the supplier on day (YYYY-MM-DD): it is
// registered, not blacklisted from that day, and none of its licences has expired. The error
// is a rule error with the reason.
func (s Supplier) UsableOn(day string) error {
	if !s.Registered {
		return errs.NotFound("supplier", s.ID)
	}
	if s.Blacklisted && s.BlacklistedOn <= day {
		return errs.Rule(ReasonSupplierBlacklisted, fmt.Sprintf("供应商已列入黑名单：%s / the supplier is blacklisted", s.BlacklistReason),
			"supplier_id", s.ID)
	}
	for _, l := range s.Licences {
		if l.ExpiresOn < day {
			return errs.Rule(ReasonSupplierLicenceExpired,
				fmt.Sprintf("供应商%s已于%s过期 / the supplier's %s expired on %s", LicenceKinds[l.Kind], l.ExpiresOn, l.Kind, l.ExpiresOn),
				"supplier_id", s.ID, "licence", l.Kind)
		}
	}
	return nil
}

// RegisterSupplier 供应商入库.
type RegisterSupplier struct {
	SupplierID string
	Name       string
	CreditCode string
	Contact    string
	Phone      string
	Licences   []Licence
}

func validLicence(v *errs.Violations, field string, l Licence) {
	if _, ok := LicenceKinds[l.Kind]; !ok {
		v.Add(field+".kind", "未知的证照类型 / unknown licence kind")
	}
	text(v, field+".number", l.Number, 1, 60, "licence number")
	if !ValidDate(l.ExpiresOn) {
		v.Add(field+".expires_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
}

// CreditCodeKey keeps credit codes unique in the district directory.
func CreditCodeKey(code string) string { return strings.ToUpper(code) }

// DecideRegisterSupplier decides RegisterSupplier.
func DecideRegisterSupplier(s Supplier, c RegisterSupplier) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "name", c.Name, 2, 100, "name")
	if len(c.CreditCode) != 18 || strings.IndexFunc(c.CreditCode, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		v.Add("credit_code", "统一社会信用代码须为18位数字或大写字母 / credit code must be 18 digits or capital letters")
	}
	text(&v, "contact", c.Contact, 0, 40, "contact")
	text(&v, "phone", c.Phone, 0, 30, "phone")
	if len(c.Licences) == 0 {
		v.Add("licences", "至少登记一项证照 / at least one licence is required")
	}
	kinds := map[string]bool{}
	for i, l := range c.Licences {
		validLicence(&v, fmt.Sprintf("licences[%d]", i), l)
		if kinds[l.Kind] {
			v.Add(fmt.Sprintf("licences[%d].kind", i), "同类证照只能登记一项 / one licence per kind")
		}
		kinds[l.Kind] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Registered {
		return nil, errs.Rule(ReasonSupplierExists, "该供应商已登记 / the supplier is already registered", "supplier_id", s.ID)
	}
	e := &eventsv1.SupplierRegistered{SupplierId: c.SupplierID, Name: c.Name, CreditCode: c.CreditCode, Contact: c.Contact, Phone: c.Phone}
	for _, l := range c.Licences {
		e.Licences = append(e.Licences, &eventsv1.Licence{Kind: l.Kind, Number: l.Number, ExpiresOn: l.ExpiresOn})
	}
	return []proto.Message{e}, nil
}

// DecideRenewSupplierLicence adds or replaces the supplier's licence of l's kind.
func DecideRenewSupplierLicence(s Supplier, l Licence) ([]proto.Message, error) {
	var v errs.Violations
	validLicence(&v, "licence", l)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Registered {
		return nil, errs.NotFound("supplier", s.ID)
	}
	return []proto.Message{&eventsv1.SupplierLicenceRenewed{SupplierId: s.ID,
		Licence: &eventsv1.Licence{Kind: l.Kind, Number: l.Number, ExpiresOn: l.ExpiresOn}}}, nil
}

// DecideBlacklistSupplier puts the supplier on the blacklist from today.
func DecideBlacklistSupplier(s Supplier, reason, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Registered {
		return nil, errs.NotFound("supplier", s.ID)
	}
	if s.Blacklisted {
		return nil, nil // already blacklisted: nothing to record
	}
	return []proto.Message{&eventsv1.SupplierBlacklisted{SupplierId: s.ID, Reason: reason, BlacklistedOn: today}}, nil
}

// DecideReinstateSupplier lifts a blacklisting.
func DecideReinstateSupplier(s Supplier, reason, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Registered {
		return nil, errs.NotFound("supplier", s.ID)
	}
	if !s.Blacklisted {
		return nil, errs.Rule(ReasonSupplierNotBlacklisted, "该供应商不在黑名单上 / the supplier is not blacklisted", "supplier_id", s.ID)
	}
	return []proto.Message{&eventsv1.SupplierReinstated{SupplierId: s.ID, Reason: reason, ReinstatedOn: today}}, nil
}
