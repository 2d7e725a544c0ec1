package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"path/filepath"
	"strings"

	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/pgkit"
	"houqin.dev/platform/pgserver"
)

// errTampered makes the command exit non-zero when a chain is broken.
var errTampered = errors.New("发现被改动的事件 / tampered events found")

func verify(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("houqin verify", flag.ContinueOnError)
	dbURL := fs.String("database-url", os.Getenv("HOUQIN_DATABASE_URL"), "服务事件库的 PostgreSQL 地址 / PostgreSQL URL of a service's event store (HOUQIN_DATABASE_URL)")
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "未给 --database-url 时，校验 houqin dev 数据目录中的 assets 事件库 / without --database-url, check the assets store of this houqin dev data folder (it must be running)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "houqin verify: 逐条重算每个事件流的哈希链，报告第一处不符 / recompute every stream's hash chain and report where it breaks\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := *dbURL
	if url == "" {
		var err error
		if url, err = devDatabaseURL(*data, "houqin_assets"); err != nil {
			return err
		}
	}
	ctx := context.Background()
	pool, err := pgkit.Open(ctx, url, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	// The service name only matters for appends; verification reads.
	streams, broken, err := eventstore.New(pool, "verify").VerifyAll(ctx)
	if err != nil {
		return err
	}
	for _, b := range broken {
		fmt.Fprintln(out, "✗", b)
	}
	fmt.Fprintf(out, "校验了 %d 个事件流，%d 个不符 / checked %d streams, %d broken\n", streams, len(broken), streams, len(broken))
	if len(broken) > 0 {
		return errTampered
	}
	return nil
}

// devDatabaseURL is the URL of database db of the cluster `houqin dev` keeps in data.
func devDatabaseURL(data, db string) (string, error) {
	port, err := os.ReadFile(filepath.Join(data, "postgres", "port"))
	if err != nil {
		return "", fmt.Errorf("请给出 --database-url，或先运行 houqin dev / give --database-url or run houqin dev first: %w", err)
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%s/%s?sslmode=disable", pgserver.User, strings.TrimSpace(string(port)), db), nil
}

// devNatsURL is the URL of the NATS server `houqin dev` runs for data.
func devNatsURL(data string) (string, error) {
	port, err := os.ReadFile(filepath.Join(data, "nats", "port"))
	if err != nil {
		return "", fmt.Errorf("请给出 --nats-url，或先运行 houqin dev / give --nats-url or run houqin dev first: %w", err)
	}
	return "nats://127.0.0.1:" + strings.TrimSpace(string(port)), nil
}
