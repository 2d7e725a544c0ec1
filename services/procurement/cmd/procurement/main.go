// Command procurement serves the procurement service (采购 / 物资) over gRPC.
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/platform/auth"
	"houqin.dev/platform/config"
	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/runtime"
	"houqin.dev/procurement/service"
)

func main() {
	var cfg struct {
		service.Config
		config.Common
	}
	config.Main(service.Name, "采购与物资服务 / the procurement service", &cfg, &cfg.Common,
		func(ctx context.Context, deps runtime.Deps) (config.Runner, error) {
			if cfg.ServiceKey != "" {
				if _, err := os.Stat(cfg.ServiceKey); err != nil {
					return nil, fmt.Errorf("--service-key: %w", err)
				}
				key, err := auth.LoadOrCreateKey(cfg.ServiceKey)
				if err != nil {
					return nil, err
				}
				// Plaintext gRPC, as every Houqin hop today (loopback, or mesh TLS in a cluster).
				cfg.Credentials = &grpckit.ServiceCredentials{Signer: auth.NewSigner(key, cfg.AuthIssuer, cfg.AuthAudience),
					Service: service.Name, District: cfg.District, Insecure: true}
			}
			return service.New(ctx, cfg.Config, deps)
		})
}
