package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/logging"
	"houqin.dev/platform/pgkit"
	projectorsvc "houqin.dev/projector/service"
)

func rebuild(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("houqin rebuild", flag.ContinueOnError)
	name := fs.String("projection", "ledger", "要重建的投影：ledger、eventlog、procurement、repairs、loans、custody、writeoffs 或 stocktakes / the projection to rebuild: ledger, eventlog, procurement, repairs, loans, custody, writeoffs or stocktakes")
	dbURL := fs.String("database-url", os.Getenv("HOUQIN_DATABASE_URL"), "投影服务读模型库的 PostgreSQL 地址 / PostgreSQL URL of the projector's read models (HOUQIN_DATABASE_URL)")
	natsURL := fs.String("nats-url", os.Getenv("HOUQIN_NATS_URL"), "NATS 地址 / NATS server URL (HOUQIN_NATS_URL)")
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "未给地址时，使用正在运行的 houqin dev 数据目录 / without URLs, use the running houqin dev of this data folder")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "houqin rebuild: 从事件流第 1 条起重放到新表，再原子替换；运行中的投影服务照常提供查询 / replay the streams from sequence 1 into fresh tables and swap them in; a running projector keeps serving\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if *dbURL == "" {
		if *dbURL, err = devDatabaseURL(*data, "houqin_projector"); err != nil {
			return err
		}
	}
	if *natsURL == "" {
		if *natsURL, err = devNatsURL(*data); err != nil {
			return err
		}
	}
	ctx := context.Background()
	pool, err := pgkit.Open(ctx, *dbURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, err := nats.Connect(*natsURL, nats.Name("houqin-rebuild"))
	if err != nil {
		return fmt.Errorf("nats %s: %w", *natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	res, err := projectorsvc.Rebuild(ctx, pool, js, *name, logging.Discard())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "已重建 %s：%d 条事件，用时 %s / rebuilt %s: %d events in %s\n",
		*name, res.Events, res.Duration.Round(1e6), *name, res.Events, res.Duration.Round(1e6))
	return nil
}
