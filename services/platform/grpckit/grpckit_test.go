package grpckit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/logging"
)

func TestToStatus(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	log := logging.New(&buf, "info", "test")
	cases := []struct {
		err    error
		code   codes.Code
		reason string
		fields []string
	}{
		{errs.Invalid("tag", "required"), codes.InvalidArgument, "", []string{"tag"}},
		{errs.Rule("ASSET_TAG_TAKEN", "taken"), codes.FailedPrecondition, "ASSET_TAG_TAKEN", nil},
		{fmt.Errorf("asset: %w", errs.ErrConflict), codes.Aborted, "CONCURRENT_UPDATE", nil},
		{errs.NotFound("asset", "x"), codes.NotFound, "", nil},
		{context.Canceled, codes.Canceled, "", nil},
		{errors.New("disk on fire"), codes.Internal, "", nil},
	}
	for _, c := range cases {
		st := status.Convert(ToStatus(ctx, log, c.err))
		if st.Code() != c.code {
			t.Errorf("%v: code %v, want %v", c.err, st.Code(), c.code)
		}
		var reason string
		var fields []string
		for _, d := range st.Details() {
			switch v := d.(type) {
			case *errdetails.ErrorInfo:
				reason = v.Reason
			case *errdetails.BadRequest:
				for _, f := range v.FieldViolations {
					fields = append(fields, f.Field)
				}
			}
		}
		if reason != c.reason || fmt.Sprint(fields) != fmt.Sprint(c.fields) {
			t.Errorf("%v: reason %q fields %v", c.err, reason, fields)
		}
	}
	// Internal errors are logged in full and hidden from the client.
	if !strings.Contains(buf.String(), "disk on fire") {
		t.Error("internal error not logged")
	}
	if st := status.Convert(ToStatus(ctx, log, errors.New("disk on fire"))); strings.Contains(st.Message(), "disk") {
		t.Errorf("internal detail leaked: %q", st.Message())
	}
}

// A server whose handler panics, and an RPC missing from the table.
func TestServerRecoversAndFailsClosed(t *testing.T) {
	s, hs := NewServer(Config{Log: logging.Discard(), Table: map[string]auth.Rule{
		"/grpc.health.v1.Health/Check": {Scope: auth.ScopePublic},
		"/test.Panics/Do":              {Scope: auth.ScopePublic},
	}})
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "test.Panics", HandlerType: (*any)(nil), Methods: []grpc.MethodDesc{
		{MethodName: "Do", Handler: func(srv any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
			req := &healthpb.HealthCheckRequest{}
			if err := dec(req); err != nil {
				return nil, err
			}
			return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/test.Panics/Do"}, func(context.Context, any) (any, error) {
				panic("boom")
			})
		}},
	}}, struct{}{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(lis) //nolint:errcheck
	defer s.Stop()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	err = conn.Invoke(ctx, "/test.Panics/Do", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("panic: %v", err)
	}
	// The server survived the panic and answers health checks without a token.
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", res, err)
	}
	// Health/List is served but not in this table: refused.
	err = conn.Invoke(ctx, "/grpc.health.v1.Health/List", &healthpb.HealthListRequest{}, &healthpb.HealthListResponse{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("undeclared RPC: %v", err)
	}
}

func TestServiceCredentials(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	signer := auth.NewSigner(key, "iss", "aud")
	v, err := auth.NewVerifier([]ed25519.PublicKey{signer.Public()}, "iss", "aud", "d1")
	if err != nil {
		t.Fatal(err)
	}
	c := &ServiceCredentials{Signer: signer, Service: "procurement", District: "d1", TTL: time.Hour}
	md, err := c.GetRequestMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(md["authorization"], "Bearer ")
	id, err := v.Verify(tok)
	if err != nil || !id.Has(auth.RoleService) || id.SchoolID != "" || id.Subject != "service:procurement" {
		t.Fatalf("%+v %v", id, err)
	}
	if again, _ := c.Token(); again != tok {
		t.Fatal("a fresh token is signed for every call")
	}
	if !c.RequireTransportSecurity() {
		t.Fatal("plaintext allowed without Insecure")
	}
}
