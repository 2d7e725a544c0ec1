// Package ports serves the procurement service over gRPC: requests become domain commands,
// results become responses. Authorisation and error mapping happen in the platform's
// interceptors. One file per area.
package ports

import (
	"strings"

	"houqin.dev/procurement/app"
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
