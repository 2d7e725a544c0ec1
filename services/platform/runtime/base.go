package runtime

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/pgkit"
)

// Base is what every backend service holds: its database, its NATS connection and its gRPC
// server. Services embed it and add their own parts.
type Base struct {
	Pool   *pgxpool.Pool
	NC     *nats.Conn
	JS     jetstream.JetStream
	Server *Server
}

// Open connects the database and NATS; name identifies the client to NATS.
func (b *Base) Open(ctx context.Context, deps Deps, dbURL string, maxConns int32, natsURL, name string) error {
	var err error
	if b.Pool, err = pgkit.Open(ctx, dbURL, maxConns); err != nil {
		return err
	}
	if b.NC, err = ConnectNATS(natsURL, name, deps.Log); err != nil {
		return err
	}
	if b.JS, err = jetstream.New(b.NC); err != nil {
		return fmt.Errorf("runtime: jetstream: %w", err)
	}
	return nil
}

// Listen prepares the gRPC server on grpcAddr (and the admin endpoint on adminAddr unless
// empty); register adds the service implementations. Fill in Background and Drain on
// b.Server before Run.
func (b *Base) Listen(deps Deps, grpcAddr, adminAddr string, register func(*grpc.Server), services ...string) error {
	gs, hs := grpckit.NewServer(grpckit.Config{Log: deps.Log, Verifier: deps.Verifier})
	register(gs)
	lis, err := Listen(grpcAddr)
	if err != nil {
		return err
	}
	b.Server = &Server{Log: deps.Log, GRPC: gs, Health: hs, Lis: lis, Metrics: deps.Metrics, Services: services}
	if adminAddr != "" {
		if b.Server.Admin, err = Listen(adminAddr); err != nil {
			lis.Close()
			return err
		}
	}
	return nil
}

// Addr is the gRPC address the service listens on.
func (b *Base) Addr() string { return b.Server.Lis.Addr().String() }

// Run serves until ctx ends, shuts down gracefully and closes the connections.
func (b *Base) Run(ctx context.Context) error {
	defer b.Close()
	return b.Server.Run(ctx)
}

// Close releases the connections.
func (b *Base) Close() {
	if b.NC != nil {
		b.NC.Close()
	}
	if b.Pool != nil {
		b.Pool.Close()
	}
}
