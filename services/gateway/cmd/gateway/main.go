// Command gateway serves Houqin's HTTP/JSON API and the web dashboard in front of the gRPC
// services.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ardanlabs/conf/v3"

	"houqin.dev/gateway/service"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/telemetry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg struct {
		service.Config
		LogLevel string `conf:"default:info,help:debug | info | warn | error"`
	}
	help, err := conf.ParseWithOptions("HOUQIN", &cfg, conf.WithStrictFlags())
	if errors.Is(err, conf.ErrHelpWanted) {
		fmt.Println("gateway: HTTP/JSON接口与看板 / HTTP/JSON API and dashboard\n\n" + help)
		return nil
	}
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, "gateway")
	if out, err := conf.String(&cfg); err == nil {
		log.Info("configuration", "config", out)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tel, err := telemetry.Setup(ctx, "houqin-gateway")
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background()) //nolint:errcheck
	svc, err := service.New(cfg.Config, log, tel.Metrics)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
