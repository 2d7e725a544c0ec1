// Package ports serves the procurement service over gRPC: requests become domain commands,
// results become responses. Authorisation and error mapping happen in the platform's
// interceptors. One file per area.
package ports

import (
	"context"
	"strings"

	"houqin.dev/platform/auth"
	"houqin.dev/procurement/app"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// Server implements procurementv1.ProcurementServiceServer.
type Server struct {
	procurementv1.UnimplementedProcurementServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

func trim(s string) string { return strings.TrimSpace(s) }

// actor is the caller of ctx, as the domain judges approvals.
func actor(ctx context.Context) domain.Actor {
	id, _ := auth.FromContext(ctx)
	a := domain.Actor{Subject: id.Subject, Name: id.Name}
	for _, r := range id.Roles {
		a.Roles = append(a.Roles, string(r))
	}
	return a
}
