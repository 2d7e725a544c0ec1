package app

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/event"
	"houqin.dev/platform/reactor"
	"houqin.dev/procurement/domain"
	assetseventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// AssetRegistrar is the part of the assets service the acceptance process manager calls.
type AssetRegistrar interface {
	RegisterFromPurchaseLine(ctx context.Context, in *assetsv1.RegisterFromPurchaseLineRequest, opts ...grpc.CallOption) (*assetsv1.RegisterFromPurchaseLineResponse, error)
}

// Reactor names, which are also their durable consumers' (react-<name>).
const (
	ReactorRegisterAssets  = "procurement-register-assets"
	ReactorReceiveStock    = "procurement-receive-stock"
	ReactorLinesRegistered = "procurement-lines-registered"
)

// reactionMeta is the meta of a command a process manager issues for event e: request id from
// the reaction and its key, caused by the event, in the event's correlation.
func reactionMeta(e event.Event, what, key string) es.Meta {
	return es.Meta{RequestID: reactor.CommandID(what, key), SchoolID: e.SchoolID, Actor: "service:procurement",
		CorrelationID: e.CorrelationID, CausationID: e.ID.String(), TraceParent: e.TraceParent,
		Fingerprint: []byte(what + "/" + key)}
}

// OnGoodsAccepted is the acceptance → assets process manager (on the procurement stream):
// every accepted fixed-asset line of a receipt is registered in the assets service, with a
// request id derived from the line id (the assets service is idempotent on the line id too).
// An assets service that is down fails the event, which the reactor delivers again with
// backoff; a refusal (invalid input, a line the assets service's rules reject) cannot be cured
// by a retry and is parked for an operator.
func (a *App) OnGoodsAccepted(assets AssetRegistrar) reactor.Handler {
	return func(ctx context.Context, e event.Event, m proto.Message) error {
		ga := m.(*eventsv1.GoodsAccepted)
		for _, l := range ga.Lines {
			if l.AcceptedQuantity <= 0 || !l.FixedAsset {
				continue
			}
			_, err := assets.RegisterFromPurchaseLine(ctx, &assetsv1.RegisterFromPurchaseLineRequest{
				RequestId: reactor.CommandID("register-asset", l.AcceptanceLineId), SchoolId: ga.SchoolId,
				SourceLineId: l.AcceptanceLineId, OrderId: ga.PurchaseOrderId, SupplierId: ga.SupplierId, Name: l.Name,
				Category: l.Category, Model: l.Model, UnitPriceFen: l.UnitPriceFen, Quantity: l.AcceptedQuantity,
				AcceptedOn: ga.AcceptedOn, FundingSource: ga.FundingSource, Location: l.Location, Department: ga.Department,
				Custodian: l.Custodian})
			switch status.Code(err) {
			case codes.OK:
			case codes.InvalidArgument, codes.FailedPrecondition:
				return reactor.Permanent(fmt.Errorf("line %s: %w", l.AcceptanceLineId, err))
			default:
				return fmt.Errorf("line %s: %w", l.AcceptanceLineId, err)
			}
		}
		return nil
	}
}

// OnGoodsAcceptedStock is the acceptance → stock process manager (材料账, same service): every
// accepted line that is not a fixed asset is received into its stock item, once per line. A
// refusal (invalid input, a unit that is not the item's) cannot be cured by a retry and is
// parked; the storekeeper fixes the item or receives the goods by hand.
func (a *App) OnGoodsAcceptedStock(ctx context.Context, e event.Event, m proto.Message) error {
	ga := m.(*eventsv1.GoodsAccepted)
	for _, l := range ga.Lines {
		if l.AcceptedQuantity <= 0 || l.FixedAsset {
			continue
		}
		_, err := a.ReceiveAcceptedLine(ctx, reactionMeta(e, "receive-stock", l.AcceptanceLineId), domain.ReceiveStock{
			Item:     domain.StockItemSpec{Code: l.ItemCode, Name: l.Name, Unit: l.Unit, Category: l.Category},
			Quantity: l.AcceptedQuantity, UnitCostFen: l.UnitPriceFen, ReceivedOn: ga.AcceptedOn,
			AcceptanceLineID: l.AcceptanceLineId, OrderID: ga.PurchaseOrderId, SupplierID: ga.SupplierId})
		if refused(err) {
			return reactor.Permanent(fmt.Errorf("line %s: %w", l.AcceptanceLineId, err))
		}
		if _, ok := errs.As[*errs.InvalidError](err); ok {
			return reactor.Permanent(fmt.Errorf("line %s: %w", l.AcceptanceLineId, err))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// OnAssetRegistered is the assets → procurement process manager (on the assets stream): an
// asset registered from an accepted line is recorded on the line's order (asset id and tag),
// which reimbursement requires. Assets registered otherwise are none of procurement's
// business; a line procurement does not know (registered by hand with a made-up id) is
// parked.
func (a *App) OnAssetRegistered(ctx context.Context, e event.Event, m proto.Message) error {
	ar := m.(*assetseventsv1.AssetRegistered)
	if ar.SourceLineId == "" || ar.OrderId == "" {
		return nil
	}
	_, err := a.RecordLineRegistered(ctx, reactionMeta(e, "line-registered", ar.SourceLineId), ar.OrderId, ar.SourceLineId,
		domain.Registration{AssetID: ar.AssetId, Tag: ar.Tag})
	if _, ok := errs.As[*errs.NotFoundError](err); ok {
		return reactor.Permanent(err)
	}
	if _, ok := errs.As[*errs.InvalidError](err); ok {
		return reactor.Permanent(err)
	}
	return err
}

// Reaction is one process manager: the stream it consumes (a service's) and its handlers by
// event type.
type Reaction struct {
	Name     string
	Service  string
	Handlers map[string]reactor.Handler
}

// Reactions are the process managers of the procurement service. assets may be nil (no assets
// service configured): accepted fixed assets then wait on the stream for a service that has one.
func (a *App) Reactions(assets AssetRegistrar) []Reaction {
	accepted := event.TypeOf(&eventsv1.GoodsAccepted{})
	r := []Reaction{
		{Name: ReactorLinesRegistered, Service: "assets",
			Handlers: map[string]reactor.Handler{event.TypeOf(&assetseventsv1.AssetRegistered{}): a.OnAssetRegistered}},
		{Name: ReactorReceiveStock, Service: "procurement", Handlers: map[string]reactor.Handler{accepted: a.OnGoodsAcceptedStock}},
	}
	r = append(r, Reaction{Name: ReactorLearnCategories, Service: "assets",
		Handlers: map[string]reactor.Handler{event.TypeOf(&assetseventsv1.CategoryAdded{}): a.OnCategoryAdded}})
	if assets != nil {
		r = append(r, Reaction{Name: ReactorRegisterAssets, Service: "procurement",
			Handlers: map[string]reactor.Handler{accepted: a.OnGoodsAccepted(assets)}})
	}
	return r
}
