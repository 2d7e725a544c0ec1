// Command loadgen is `make bench`: it measures Houqin against this machine's raw limits in one
// run and prints the comparison (see package houqin.dev/tools/internal/bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/platform/logging"
	"houqin.dev/tools/internal/bench"
)

const intro = `loadgen — Houqin 基准测试 / benchmarks

在本机一次运行中，用同样的设置（PostgreSQL 开启 fsync，JetStream 每次写入都 fsync）测量本系统与机器上限，并打印对比表：
  指令   RegisterAsset（gRPC，真实 assets 服务）对比 pgbench 直接写入同样的行
  外发   outbox 外发器对比 JetStream 直接异步发布
  投影   台帐投影对比直接拉取确认、直接批量写入；以及重建
  台帐   全区 100 所学校 × 3000 条资产时，单校与全区按日期查询台帐的延迟（gRPC 与网关），目标 p95 < 100 ms
  盘点   一次 5000 件的盘点（开始、5000 次扫描、结束）对比 pgbench 单连接串行写入；另测无状态缓存时
  库存   同一物资 2000 笔出库对比 pgbench 单连接串行写入；另测无状态缓存时（每笔读取物资全部历史）；63 种物资并发出库对比 pgbench 16 连接
结果同时写入 --out 指定的 JSON 文件。未达标只作提示，退出码仍为 0。

Measures Houqin against this machine's raw limits in one run, with the same settings on both
sides (PostgreSQL with fsync, JetStream fsyncing every write), and prints the comparison:
  commands    RegisterAsset over gRPC on the real assets service vs pgbench writing the same rows
  relay       the outbox relay vs raw JetStream async publish
  projection  the ledger projection vs raw fetch+ack and raw batch insert; and a rebuild
  ledger      as-of ledger queries of one school and of the district over 100 schools × 3,000
              assets (gRPC and the gateway), p50/p95/p99 against the target p95 < 100 ms
  stocktake   one stocktake session of 5,000 items (start, 5,000 scans, close) vs pgbench's
              serial append from one connection; and the same without the state cache
  stock       2,000 stock issues on one item vs pgbench's serial append; more without the state
              cache (each reads the item's whole history); issues over 63 items vs pgbench ×16
The results also go to the JSON file of --out. A missed target is informational: exit code 0.

用法 / usage: go run ./tools/cmd/loadgen [flags]

参数 / flags:
`

type options struct {
	duration                     time.Duration
	rounds                       int
	quick                        bool
	events                       int
	clients                      string
	only                         string
	out                          string
	ledger                       string
	queries                      int
	logFile                      string
	cpuProfile                   string
	stocktake, stocktakeUncached int
	stock, stockUncached         int
}

func parseFlags(args []string, stderr io.Writer) (options, bench.Config, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 9*time.Second, "每个测量点的时长 / duration of each measured point")
	fs.IntVar(&o.rounds, "rounds", 3, "每个指令测量点分几轮与 pgbench 交替进行，取比例居中的一轮 / rounds per command point, alternating with pgbench; the round with the median ratio is reported")
	fs.BoolVar(&o.quick, "quick", false, "冒烟测试：每点约 2 秒、2 万条事件 / smoke run: ~2 s per point and 20,000 events (unless -duration or -events are given)")
	fs.IntVar(&o.events, "events", 100_000, "外发与投影测量的事件数 / events moved by the relay and projection measurements")
	fs.StringVar(&o.clients, "clients", "1,16,64", "指令测量的并发客户端数，逗号分隔 / concurrent clients of the command measurement, comma-separated")
	fs.StringVar(&o.ledger, "ledger", "100x3000", "台帐查询测量的学校数×每校资产数 / schools × assets per school of the ledger query measurement")
	fs.IntVar(&o.queries, "ledger-queries", 200, "每种台帐查询计时的次数 / timed calls of each ledger query kind")
	fs.IntVar(&o.stocktake, "stocktake", 5000, "盘点测量的资产件数（一次盘点）/ items of the measured stocktake session")
	fs.IntVar(&o.stocktakeUncached, "stocktake-uncached", 1000, "无状态缓存对照的盘点件数 / items of the same session measured without the state cache")
	fs.IntVar(&o.stock, "stock", 2000, "库存测量中同一物资的出库笔数 / stock issues on the one hot item")
	fs.IntVar(&o.stockUncached, "stock-uncached", 300, "无状态缓存对照的出库笔数 / stock issues on the hot item without the state cache")
	fs.StringVar(&o.only, "only", "", "只运行这些阶段，逗号分隔 / run only these phases, comma-separated: "+strings.Join(bench.AllPhases, ","))
	fs.StringVar(&o.out, "out", "bench-results/latest.json", "结果 JSON 文件（相对当前目录）/ results JSON file (relative to the current directory)")
	fs.StringVar(&o.logFile, "log", "", "服务日志写入此文件，默认丢弃 / write the services' logs to this file (default: discarded)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "整个运行的 CPU 剖析写入此文件 / write a CPU profile of the whole run to this file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), intro)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, bench.Config{}, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick && !set["duration"] {
		o.duration = 2 * time.Second
	}
	if o.quick && !set["events"] {
		o.events = 20_000
	}
	if o.quick && !set["rounds"] {
		o.rounds = 1
	}
	if o.quick && !set["ledger"] {
		o.ledger = "20x500"
	}
	if o.quick && !set["ledger-queries"] {
		o.queries = 40
	}
	if o.quick && !set["stocktake"] {
		o.stocktake = 1000
	}
	if o.quick && !set["stocktake-uncached"] {
		o.stocktakeUncached = 200
	}
	if o.quick && !set["stock"] {
		o.stock = 500
	}
	if o.quick && !set["stock-uncached"] {
		o.stockUncached = 100
	}
	cfg, err := o.config()
	return o, cfg, err
}

func (o options) config() (bench.Config, error) {
	cfg := bench.Config{Duration: o.duration, Rounds: o.rounds, Warmup: min(time.Second, o.duration/4), Events: o.events}
	if o.rounds < 1 {
		return cfg, errors.New("-rounds 至少为 1 / must be at least 1")
	}
	if o.duration/time.Duration(o.rounds) < time.Second {
		return cfg, errors.New("-duration 每轮至少 1s / must give each round at least 1s (pgbench counts whole seconds)")
	}
	if o.events < 1 {
		return cfg, errors.New("-events 至少为 1 / must be at least 1")
	}
	school, per, ok := strings.Cut(o.ledger, "x")
	var err1, err2 error
	cfg.LedgerSchools, err1 = strconv.Atoi(school)
	cfg.LedgerAssets, err2 = strconv.Atoi(per)
	if !ok || err1 != nil || err2 != nil || cfg.LedgerSchools < 1 || cfg.LedgerAssets < 1 {
		return cfg, fmt.Errorf("-ledger: %q 须为 学校数x每校资产数 / must be schools x assets, e.g. 100x3000", o.ledger)
	}
	if o.stocktake < 50 || o.stocktakeUncached < 50 {
		return cfg, errors.New("-stocktake, -stocktake-uncached 至少为 50 / must be at least 50 (one room)")
	}
	cfg.StocktakeItems, cfg.StocktakeUncached = o.stocktake, o.stocktakeUncached
	if o.stock < 10 || o.stockUncached < 10 {
		return cfg, errors.New("-stock, -stock-uncached 至少为 10 / must be at least 10")
	}
	cfg.StockIssues, cfg.StockUncached = o.stock, o.stockUncached
	if cfg.LedgerQueries = o.queries; o.queries < 1 {
		return cfg, errors.New("-ledger-queries 至少为 1 / must be at least 1")
	}
	for _, s := range strings.Split(o.clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("-clients: %q 不是正整数 / is not a positive integer", s)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	if o.only != "" {
		for _, p := range strings.Split(o.only, ",") {
			p = strings.TrimSpace(p)
			if !slices.Contains(bench.AllPhases, p) {
				return cfg, fmt.Errorf("-only: 未知阶段 / unknown phase %q (phases: %s)", p, strings.Join(bench.AllPhases, ","))
			}
			cfg.Phases = append(cfg.Phases, p)
		}
	}
	return cfg, nil
}

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	o, cfg, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	log, closeLog, err := openLog(o.logFile)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg.Log, cfg.Progress = log, os.Stderr
	if o.cpuProfile != "" {
		stop, err := startProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	// Ctrl+C cancels the run; the servers and their folders are still removed on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, runErr := bench.Run(ctx, cfg)
	if len(rep.Rows) > 0 {
		fmt.Println()
		rep.WriteTable(os.Stdout)
	}
	if ctx.Err() != nil {
		// An interrupted run is not a result: keep the last complete one on disk.
		return errors.New("中断 / interrupted")
	}
	// A run that failed part-way still writes what it measured, with its error.
	if err := rep.WriteJSON(o.out); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Printf("\n结果 / results: %s\n", o.out)
	return runErr
}

func openLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return logging.Discard(), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return logging.New(f, "info", "loadgen"), func() { f.Close() }, nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
