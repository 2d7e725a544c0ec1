// Command procurement serves the procurement service (采购 / 物资) over gRPC.
package main

import (
	"context"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/platform/config"
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
			return service.New(ctx, cfg.Config, deps)
		})
}
