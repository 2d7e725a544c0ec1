// Command assets serves the assets service (校产管理) over gRPC.
package main

import (
	"context"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/assets/service"
	"houqin.dev/platform/config"
	"houqin.dev/platform/runtime"
)

func main() {
	var cfg struct {
		service.Config
		config.Common
	}
	config.Main(service.Name, "校产管理服务 / the assets service", &cfg, &cfg.Common,
		func(ctx context.Context, deps runtime.Deps) (config.Runner, error) {
			return service.New(ctx, cfg.Config, deps)
		})
}
