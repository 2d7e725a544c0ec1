// Package config holds the settings every Houqin binary shares and the start-up steps that go
// with them: log the effective configuration (secrets masked), set up telemetry, load the
// token verification keys.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ardanlabs/conf/v3"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/telemetry"
)

// Common settings of every service binary.
type Common struct {
	LogLevel     string `conf:"default:info,help:debug | info | warn | error"`
	District     string `conf:"default:demo,help:district id; tokens of other districts are refused"`
	AuthKeys     string `conf:"help:PEM file of Ed25519 public keys that sign bearer tokens (required)"`
	AuthIssuer   string `conf:"default:houqin-dev,help:expected token issuer (empty: not checked)"`
	AuthAudience string `conf:"default:houqin,help:expected token audience (empty: not checked)"`
}

// Setup logs cfg (the whole configuration struct), starts telemetry and loads the keys.
func Setup(ctx context.Context, service string, c Common, log *slog.Logger, cfg any) (runtime.Deps, func(), error) {
	if out, err := conf.String(cfg); err == nil {
		log.Info("configuration", "config", out)
	}
	if c.AuthKeys == "" {
		return runtime.Deps{}, nil, errors.New("config: --auth-keys (HOUQIN_AUTH_KEYS) is required: a PEM file of token signing public keys")
	}
	keys, err := auth.LoadPublicKeys(c.AuthKeys)
	if err != nil {
		return runtime.Deps{}, nil, err
	}
	v, err := auth.NewVerifier(keys, c.AuthIssuer, c.AuthAudience, c.District)
	if err != nil {
		return runtime.Deps{}, nil, err
	}
	tel, err := telemetry.Setup(ctx, "houqin-"+service)
	if err != nil {
		return runtime.Deps{}, nil, fmt.Errorf("config: telemetry: %w", err)
	}
	return runtime.Deps{Log: log, Verifier: v, Metrics: tel.Metrics}, func() { _ = tel.Shutdown(context.Background()) }, nil
}

// Runner is a service ready to serve.
type Runner interface {
	Run(ctx context.Context) error
}

// Main is a service binary: parse cfg (a struct holding common) from flags and HOUQIN_*
// variables, print --help, log the configuration, set up telemetry and keys, start the
// service and serve until SIGINT or SIGTERM. Errors end the process with status 1.
func Main(name, description string, cfg any, common *Common,
	start func(ctx context.Context, deps runtime.Deps) (Runner, error)) {
	if err := run(name, description, cfg, common, start); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func run(name, description string, cfg any, common *Common, start func(context.Context, runtime.Deps) (Runner, error)) error {
	help, err := conf.ParseWithOptions("HOUQIN", cfg, conf.WithStrictFlags())
	if errors.Is(err, conf.ErrHelpWanted) {
		fmt.Println(name + ": " + description + "\n\n" + help)
		return nil
	}
	if err != nil {
		return err
	}
	log := logging.New(os.Stdout, common.LogLevel, name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, shutdown, err := Setup(ctx, name, *common, log, cfg)
	if err != nil {
		return err
	}
	defer shutdown()
	svc, err := start(ctx, deps)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
