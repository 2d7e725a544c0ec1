// Package natsserver runs an embedded NATS server with JetStream, for `houqin dev`, tests and
// benchmarks.
package natsserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"houqin.dev/platform/netutil"
)

// Options say how to run it.
type Options struct {
	// StoreDir holds JetStream's file store.
	StoreDir string
	// Port on 127.0.0.1; -1 picks a free one; 0 keeps the port remembered beside the store
	// (StoreDir/port) when it is free, so a data folder's server keeps its address.
	Port int
	// SyncAlways fsyncs every write. Single-node deployments need it: by default JetStream
	// fsyncs only every two minutes and an acknowledged message could vanish in a power loss.
	SyncAlways bool
}

// Start runs the server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("natsserver: StoreDir is required")
	}
	if o.Port == 0 {
		if err := os.MkdirAll(o.StoreDir, 0o755); err != nil {
			return nil, err
		}
		p, err := netutil.StickyPort(filepath.Join(o.StoreDir, "port"))
		if err != nil {
			return nil, err
		}
		o.Port = p
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "houqin-embedded",
		Host:       "127.0.0.1",
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("natsserver: not ready after 10s")
	}
	return ns, nil
}
