// Command projector builds the read models from every service's events and serves the
// reports (ReportsService) over gRPC.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"github.com/ardanlabs/conf/v3"

	"houqin.dev/platform/config"
	"houqin.dev/platform/logging"
	"houqin.dev/projector/service"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "projector:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg struct {
		service.Config
		config.Common
	}
	help, err := conf.ParseWithOptions("HOUQIN", &cfg, conf.WithStrictFlags())
	if errors.Is(err, conf.ErrHelpWanted) {
		fmt.Println("projector: 报表投影服务 / builds read models and serves reports\n\n" + help)
		return nil
	}
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, service.Name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, shutdown, err := config.Setup(ctx, service.Name, cfg.Common, log, &cfg)
	if err != nil {
		return err
	}
	defer shutdown()
	svc, err := service.New(ctx, cfg.Config, deps)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
