package app

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	"houqin.dev/procurement/domain"
)

// districtMeta returns meta for a district-wide aggregate: its events belong to no school.
func districtMeta(meta es.Meta) es.Meta {
	meta.SchoolID = district.SchoolID
	return meta
}

// RegisterSupplier adds a supplier to the district directory and returns its id and version.
func (a *App) RegisterSupplier(ctx context.Context, meta es.Meta, c domain.RegisterSupplier) (string, int64, error) {
	c.SupplierID = newID()
	meta = districtMeta(meta)
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideRegisterSupplier(domain.Supplier{}, c)
		return "", 0, errs.Join(err, derr)
	}
	res, err := a.suppliers.Execute(ctx, meta, es.Command[domain.Supplier]{ID: c.SupplierID, New: true,
		Decide: func(s domain.Supplier) (es.Decision, error) {
			ev, err := domain.DecideRegisterSupplier(s, c)
			return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{{Scope: "supplier_credit_code",
				Key: domain.CreditCodeKey(c.CreditCode), Reason: domain.ReasonCreditCodeTaken,
				Message: "名录中已有该统一社会信用代码 / a supplier with this credit code is already registered"}}}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, SupplierAggregate.Type+":"), res.Version, nil
}

// RenewSupplierLicence adds or replaces a licence of a supplier.
func (a *App) RenewSupplierLicence(ctx context.Context, meta es.Meta, supplierID string, l domain.Licence) (int64, error) {
	return a.supplierCommand(ctx, meta, supplierID, func(s domain.Supplier) ([]proto.Message, error) {
		return domain.DecideRenewSupplierLicence(s, l)
	})
}

// BlacklistSupplier puts a supplier on the blacklist from today.
func (a *App) BlacklistSupplier(ctx context.Context, meta es.Meta, supplierID, reason string) (int64, error) {
	return a.supplierCommand(ctx, meta, supplierID, func(s domain.Supplier) ([]proto.Message, error) {
		return domain.DecideBlacklistSupplier(s, reason, domain.Day(a.Today()))
	})
}

// ReinstateSupplier lifts a blacklisting.
func (a *App) ReinstateSupplier(ctx context.Context, meta es.Meta, supplierID, reason string) (int64, error) {
	return a.supplierCommand(ctx, meta, supplierID, func(s domain.Supplier) ([]proto.Message, error) {
		return domain.DecideReinstateSupplier(s, reason, domain.Day(a.Today()))
	})
}

func (a *App) supplierCommand(ctx context.Context, meta es.Meta, supplierID string, decide func(domain.Supplier) ([]proto.Message, error)) (int64, error) {
	if err := checkID("supplier_id", supplierID); err != nil {
		return 0, err
	}
	res, err := a.suppliers.Execute(ctx, districtMeta(meta), es.Command[domain.Supplier]{ID: supplierID,
		Decide: func(s domain.Supplier) (es.Decision, error) {
			if !s.Registered {
				return es.Decision{}, errs.NotFound("supplier", supplierID)
			}
			ev, err := decide(s)
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

// GetSupplier returns a supplier of the directory and its version.
func (a *App) GetSupplier(ctx context.Context, supplierID string) (domain.Supplier, int64, error) {
	if err := checkID("supplier_id", supplierID); err != nil {
		return domain.Supplier{}, 0, err
	}
	return a.suppliers.Load(ctx, district.SchoolID, supplierID)
}
