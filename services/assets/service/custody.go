package service

import (
	"context"

	"google.golang.org/grpc"

	"houqin.dev/assets/app"
	"houqin.dev/assets/holdings"
	"houqin.dev/assets/ports"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/projection"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// custodyServices are the gRPC services of custody, lending, requisition, clearance and damage.
var custodyServices = []string{
	assetsv1.LendingService_ServiceDesc.ServiceName,
	assetsv1.DamageService_ServiceDesc.ServiceName,
	assetsv1.CustodyService_ServiceDesc.ServiceName,
	assetsv1.RequisitionService_ServiceDesc.ServiceName,
	assetsv1.ClearanceService_ServiceDesc.ServiceName,
}

func (s *Service) registerCustody(gs *grpc.Server, a *app.App) {
	h := holdings.Reader{Pool: s.Pool, Service: Name, LastSeq: func(ctx context.Context) (uint64, error) {
		st, err := s.JS.Stream(ctx, bus.StreamName(Name))
		if err != nil {
			return 0, err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return 0, err
		}
		return info.State.LastSeq, nil
	}}
	a.UseHoldings(h)
	assetsv1.RegisterLendingServiceServer(gs, ports.NewLendingServer(a, h))
	assetsv1.RegisterDamageServiceServer(gs, ports.NewDamageServer(a))
	assetsv1.RegisterCustodyServiceServer(gs, ports.NewCustodyServer(a))
	assetsv1.RegisterRequisitionServiceServer(gs, ports.NewRequisitionServer(a))
	assetsv1.RegisterClearanceServiceServer(gs, ports.NewClearanceServer(a))
}

// Holdings is the runner of the holdings read model (tests).
func (s *Service) Holdings() *projection.Runner { return s.holdings }

// CustodyServices names the gRPC services of custody, lending, requisition, clearance and
// damage (tests walk their authorisation matrix).
var CustodyServices = custodyServices
