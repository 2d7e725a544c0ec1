package service_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/testkit"
	"houqin.dev/procurement/service"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// env is one running procurement service on a fresh database and NATS server, and a client.
type env struct {
	svc    *service.Service
	conn   *grpc.ClientConn
	client procurementv1.ProcurementServiceClient
	auth   testkit.Auth
	cfg    service.Config
}

func start(t *testing.T, opts ...func(*service.Config)) *env {
	t.Helper()
	ns := testkit.NATS(t)
	a := testkit.NewAuth(t)
	cfg := service.Config{
		GRPCAddr: "127.0.0.1:0", DatabaseURL: testkit.DatabaseURL(t), DBMaxConns: 8, NatsURL: ns.ClientURL(),
		StreamReplicas: 1, DuplicateWindow: time.Minute, Timezone: "Asia/Shanghai", Retries: 3, RelayBatch: 500,
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := service.New(context.Background(), cfg, runtime.Deps{Log: logging.Discard(), Verifier: a.Verifier})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &env{svc: svc, conn: conn, client: procurementv1.NewProcurementServiceClient(conn), auth: a, cfg: cfg}
}

func (e *env) as(t *testing.T, role auth.Role, school string) context.Context {
	return testkit.Ctx(e.auth.Token(t, role, school))
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason
		}
	}
	return ""
}

func fields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, v.Field)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestHealth(t *testing.T) {
	e := start(t)
	res, err := healthpb.NewHealthClient(e.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "houqin.procurement.v1.ProcurementService"})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", res, err)
	}
}

func TestAuthorization(t *testing.T) {
	e := start(t)
	testkit.AuthorizationMatrix(t, e.conn, "houqin.procurement.v1.ProcurementService", e.auth, auth.Table, "s1", "s2")
}
