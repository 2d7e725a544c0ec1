package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/logging"
	"houqin.dev/platform/pgkit"
	"houqin.dev/tools/internal/stack"
)

// projections lists the rebuildable projections by owner, from the stack's registry.
func projections() string {
	var b strings.Builder
	for _, rm := range stack.ReadModels {
		fmt.Fprintf(&b, "\n  %s（%s 库 / database）: %s", rm.Catalog.Owner, rm.Database, strings.Join(rm.Catalog.Names(), ", "))
	}
	return b.String()
}

// findReadModel resolves a projection name, or owner/name, in the registry.
func findReadModel(name string) (stack.ReadModel, string, error) {
	owner, short, qualified := strings.Cut(name, "/")
	if !qualified {
		owner, short = "", name
	}
	var found []stack.ReadModel
	for _, rm := range stack.ReadModels {
		if p, _ := rm.Catalog.Find(short); p != nil && (owner == "" || owner == rm.Catalog.Owner) {
			found = append(found, rm)
		}
	}
	switch len(found) {
	case 1:
		return found[0], short, nil
	case 0:
		return stack.ReadModel{}, "", fmt.Errorf("没有投影 %q / no projection %q; 可选 / there are:%s", name, name, projections())
	default:
		return stack.ReadModel{}, "", fmt.Errorf("投影 %q 不止一个服务有，请写 服务/名称 / more than one service has a projection %q: give owner/name:%s", name, name, projections())
	}
}

func rebuild(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("houqin rebuild", flag.ContinueOnError)
	name := fs.String("projection", "ledger", "要重建的投影（名称或 服务/名称）/ the projection to rebuild (name or owner/name):"+projections())
	dbURL := fs.String("database-url", os.Getenv("HOUQIN_DATABASE_URL"), "投影所属服务的数据库地址（PostgreSQL）/ PostgreSQL URL of the database of the service that owns the projection (HOUQIN_DATABASE_URL)")
	natsURL := fs.String("nats-url", os.Getenv("HOUQIN_NATS_URL"), "NATS 地址 / NATS server URL (HOUQIN_NATS_URL)")
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "未给地址时，使用正在运行的 houqin dev 数据目录 / without URLs, use the running houqin dev of this data folder")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "houqin rebuild: 从事件流第 1 条起重放到新表，再原子替换；运行中的服务照常提供查询 / replay the streams from sequence 1 into fresh tables and swap them in; the running service keeps serving. 投影版本变了（升级后）服务启动时会自动重建，不必手动 / after an upgrade that changes a projection's version its service rebuilds it by itself at start\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	rm, short, err := findReadModel(*name)
	if err != nil {
		return err
	}
	if *dbURL == "" {
		if *dbURL, err = devDatabaseURL(*data, rm.Database); err != nil {
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
	res, err := rm.Catalog.Rebuild(ctx, pool, js, short, logging.Discard())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "已重建 %s：%d 条事件，用时 %s / rebuilt %s: %d events in %s\n",
		short, res.Events, res.Duration.Round(1e6), short, res.Events, res.Duration.Round(1e6))
	return nil
}
