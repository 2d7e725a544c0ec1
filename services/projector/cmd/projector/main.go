// Command projector builds the read models from every service's events and serves the
// reports (ReportsService) over gRPC.
package main

import (
	"context"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/platform/config"
	"houqin.dev/platform/runtime"
	"houqin.dev/projector/service"
)

func main() {
	var cfg struct {
		service.Config
		config.Common
	}
	config.Main(service.Name, "报表投影服务 / builds read models and serves reports", &cfg, &cfg.Common,
		func(ctx context.Context, deps runtime.Deps) (config.Runner, error) {
			return service.New(ctx, cfg.Config, deps)
		})
}
