package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"houqin.dev/platform/pgkit"
	"houqin.dev/platform/reactor"
)

const parkedUsage = `houqin parked list|retry [flags]
  被永久拒绝的流程反应（如资产服务不收的固定资产验收行、接收学校已没有该存放地点的校际调拨）不会丢弃，而是搁置在反应方服务的数据库里。
  list 列出未解决的搁置反应；修好原因后，retry 请服务用同一个处理器重跑（命令幂等，不会重复执行），成功即解决。
  Reactions refused for good (e.g. an accepted fixed-asset line the assets service rejects, a
  transfer between schools whose location the receiving school no longer has) are not dropped
  but parked in the reacting service's database (--service procurement or assets). list shows the open ones;
  after fixing the cause, retry asks the running service to run them again with the same handler
  (idempotent commands: nothing happens twice); a success resolves them.

`

func parked(args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry") {
		fmt.Fprint(os.Stderr, parkedUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return fmt.Errorf("用法 / usage: houqin parked list|retry [flags]")
	}
	cmd := args[0]
	fs := flag.NewFlagSet("houqin parked "+cmd, flag.ContinueOnError)
	dbURL := fs.String("database-url", os.Getenv("HOUQIN_DATABASE_URL"), "反应方服务的 PostgreSQL 地址 / PostgreSQL URL of the reacting service (HOUQIN_DATABASE_URL)")
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "未给 --database-url 时，使用 houqin dev 数据目录中 --service 的库 / without --database-url, the --service database of this houqin dev data folder (it must be running)")
	service := fs.String("service", "", "未给 --database-url 时的反应方服务：procurement 或 assets（默认取 --reactor 的前缀，否则 procurement）/ the reacting service without --database-url: procurement or assets (default: --reactor's prefix, else procurement)")
	var f reactor.Filter
	fs.StringVar(&f.Reactor, "reactor", "", "只看/只重试这个反应器 / only this reactor (e.g. procurement-register-assets)")
	fs.StringVar(&f.EventID, "event", "", "只看/只重试这个事件 / only this event id")
	if cmd == "list" {
		fs.BoolVar(&f.Resolved, "all", false, "也列出已解决的（历史）/ resolved ones too (history)")
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), parkedUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	url := *dbURL
	if url == "" {
		svc := *service
		if svc == "" {
			svc, _, _ = strings.Cut(f.Reactor, "-")
		}
		if svc != "assets" && svc != "procurement" {
			if *service != "" {
				return fmt.Errorf("--service 须为 procurement 或 assets / --service must be procurement or assets")
			}
			svc = "procurement"
		}
		var err error
		if url, err = devDatabaseURL(*data, "houqin_"+svc); err != nil {
			return err
		}
	}
	ctx := context.Background()
	pool, err := pgkit.Open(ctx, url, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	p := reactor.NewParking(pool)
	if cmd == "retry" {
		n, err := p.RequestRetry(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "已请求重试 %d 条搁置反应，运行中的服务几秒内重跑；用 houqin parked list 查看结果\n"+
			"asked %d parked reactions to be retried; the running service runs them within seconds (see houqin parked list)\n", n, n)
		return nil
	}
	ps, err := p.List(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "反应器 REACTOR\t事件 EVENT\t类型 TYPE\t学校 SCHOOL\t流 STREAM\t代码 CODE\t原因 REASON\t次数 ATTEMPTS\t最近 LAST\t状态 STATE\t信息 MESSAGE")
	for _, x := range ps {
		state := "搁置 parked"
		switch {
		case x.Resolved != nil:
			state = "已解决 resolved " + x.Resolved.Local().Format("2006-01-02 15:04:05")
		case x.RetryRequested != nil:
			state = "待重试 retry requested"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", x.Reactor, x.EventID, x.EventType, x.SchoolID, x.StreamID,
			x.Code, x.Reason, x.Attempts, x.LastAt.Local().Format("2006-01-02 15:04:05"), state, x.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d 条 / %d parked reactions\n", len(ps), len(ps))
	return nil
}
