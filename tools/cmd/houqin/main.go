// Command houqin is the Houqin command-line tool: run the whole district on this machine and
// issue development tokens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the district's time zone must not depend on the host

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/telemetry"
	"houqin.dev/tools/internal/demo"
	"houqin.dev/tools/internal/stack"
)

const usage = `houqin — 后勤管理平台命令行工具 / the Houqin command-line tool

用法 / usage:
  houqin dev   [flags]   在本机启动全区：PostgreSQL、NATS、全部服务、演示数据，并打印看板地址
                         start the whole district on this machine with demo data and print the dashboard URL
  houqin token [flags]   签发开发用登录令牌 / issue a development token
  houqin verify [flags]  校验事件存储的哈希链（防篡改审计）/ check the event store's hash chains (tamper audit)
  houqin parked list|retry [--service procurement|assets] [--reactor R] [--event ID] [flags]
                         列出/重试被永久拒绝而搁置的流程反应（默认 houqin dev 的 procurement 库）
                         list / retry the process-manager reactions parked after a permanent refusal
                         (the dev stack's procurement database by default)
  houqin rebuild [flags] 从事件重建一个报表投影 / rebuild a read-model projection from the events
  houqin import assets FILE.xlsx|FILE.csv --school S [--dry-run] [flags]
                         从 Excel/CSV 台帐导入资产：先逐行校验，有错则一条不写；重复导入不重复登记
                         import a school's asset ledger from Excel/CSV: every row is checked first and
                         nothing is written if any is invalid; importing the same file again adds nothing

"houqin <command> -h" 查看各命令参数 / shows each command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "dev":
		err = dev(os.Args[2:])
	case "token":
		err = token(os.Args[2:], os.Stdout)
	case "verify":
		err = verify(os.Args[2:], os.Stdout)
	case "parked":
		err = parked(os.Args[2:], os.Stdout)
	case "rebuild":
		err = rebuild(os.Args[2:], os.Stdout)
	case "import":
		err = importCmd(os.Args[2:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "未知命令 / unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "houqin:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func dev(args []string) error {
	fs := flag.NewFlagSet("houqin dev", flag.ContinueOnError)
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "数据目录：数据库、消息存储、开发密钥，再次运行时沿用 / data folder, reused by the next run (HOUQIN_DATA)")
	httpAddr := fs.String("http", env("HOUQIN_HTTP_ADDR", "127.0.0.1:8080"), "看板与 HTTP 接口地址 / dashboard and HTTP API address (HOUQIN_HTTP_ADDR)")
	dbURL := fs.String("database-url", os.Getenv("HOUQIN_DATABASE_URL"), "使用已有的 PostgreSQL 而非私有实例 / use this PostgreSQL server instead of a private one (HOUQIN_DATABASE_URL)")
	natsURL := fs.String("nats-url", os.Getenv("HOUQIN_NATS_URL"), "使用已有的 NATS 而非内嵌实例 / use this NATS server instead of an embedded one (HOUQIN_NATS_URL)")
	noDemo := fs.Bool("no-demo", false, "不写入演示数据 / do not seed the demo district")
	district := fs.String("district", env("HOUQIN_DISTRICT", "demo"), "区县编号 / district id (HOUQIN_DISTRICT)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "houqin dev: 在本机启动全区 / start the whole district on this machine\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(*data, "houqin.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := logging.New(logFile, "info", "houqin-dev")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("启动中… / starting (日志 / logs: %s)\n", logPath)
	tel, err := telemetry.Setup(ctx, "houqin-dev")
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background()) //nolint:errcheck
	st, err := stack.Start(ctx, stack.Options{DataDir: *data, Durable: true, DatabaseURL: *dbURL, NatsURL: *natsURL,
		HTTPAddr: *httpAddr, District: *district, Log: log, Metrics: tel.Metrics})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.StartAll(ctx); err != nil {
		return err
	}
	if !*noDemo {
		conn, err := stack.Dial(st.AssetsAddr())
		if err != nil {
			return err
		}
		tok := func(role auth.Role, school, name string) (string, error) {
			return st.Token(role, school, name, time.Hour)
		}
		// Progress on one line on a terminal; whole lines in a log file or CI.
		format, terminal := "演示数据 / demo data: %d/%d\n", false
		if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format, terminal = "\r演示数据 / demo data: %d/%d", true
		}
		res, err := demo.Seed(ctx, conn, tok, 8, func(done, total int) {
			if done%200 == 0 || done == total {
				fmt.Printf(format, done, total)
			}
		})
		if terminal {
			fmt.Println()
		}
		conn.Close()
		if err != nil {
			return err
		}
		pconn, err := stack.Dial(st.ProcurementAddr())
		if err != nil {
			return err
		}
		pres, err := demo.SeedProcurement(ctx, pconn, tok, demo.FiscalYear())
		if err != nil {
			pconn.Close()
			return err
		}
		fmt.Printf("采购演示：%d 家供应商，%d 份购物申请，%d 张订单 / procurement demo: %d suppliers, %d requests, %d orders\n",
			pres.Suppliers, pres.Requests, pres.Orders, pres.Suppliers, pres.Requests, pres.Orders)
		sres, err := demo.SeedStockAndFees(ctx, pconn, tok, demo.Today(), pres.OrderIDs)
		pconn.Close()
		if err != nil {
			return err
		}
		fmt.Printf("库存与收费演示：%d 所学校，%d 种物资，%d 笔出库，%d 项收费（%d 所此前已有） / stock and fees demo: %d schools, %d items, %d issues, %d fees (%d seeded before)\n",
			sres.Schools, sres.Items, sres.Issues, sres.Fees, sres.Kept, sres.Schools, sres.Items, sres.Issues, sres.Fees, sres.Kept)
		if err := waitForProjections(ctx, st); err != nil {
			return err
		}
		fmt.Printf("演示区县：%d 所学校，%d 条资产 / demo district: %d schools, %d assets\n", res.Schools, res.Assets+res.Kept, res.Schools, res.Assets+res.Kept)
	}
	viewer, err := st.Token(auth.RoleBureauViewer, "", "教育局（演示）", 12*time.Hour)
	if err != nil {
		return err
	}
	fmt.Printf(`
后勤管理平台已启动 / Houqin is running
  看板 / dashboard:  %s/#token=%s
  HTTP 接口 / API:   %s/api/v1/district/ledger
  指标 / metrics:    %s/metrics
  gRPC:              assets %s · procurement %s · reports %s
  其他角色令牌 / tokens for other roles:  %s token --data %s --role logistics_director --school qs-shipai-zx
按 Ctrl+C 停止 / press Ctrl+C to stop
`, st.URL(), viewer, st.URL(), st.URL(), st.AssetsAddr(), st.ProcurementAddr(), st.ReportsAddr(), self(), *data)
	<-ctx.Done()
	fmt.Println("\n正在停止… / stopping")
	return nil
}

// waitForProjections waits until the outbox is published and every projection has applied
// every published event, so the printed dashboard is complete when the user opens it.
func waitForProjections(ctx context.Context, st *stack.Stack) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pending, _, lastErr := outbox.Pending(ctx, st.Assets.Store().Pool())
		behind := uint64(pending)
		for _, r := range st.Projector.Runners() {
			n, err := r.Lag(ctx)
			if err != nil {
				lastErr = err
			}
			behind += n
		}
		if behind == 0 && lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("报表未在两分钟内追上 / the projector did not catch up within 2 minutes (%d behind, %v)", behind, lastErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func token(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("houqin token", flag.ContinueOnError)
	data := fs.String("data", env("HOUQIN_DATA", ".houqin"), "数据目录（开发密钥所在）/ data folder holding the dev signing key (HOUQIN_DATA)")
	role := fs.String("role", "bureau_viewer", "角色 / role: bureau_admin bureau_viewer principal vice_principal logistics_director department_head storekeeper accountant teacher service")
	school := fs.String("school", "", "学校编号（校内角色必填）/ school id (required for school roles)")
	name := fs.String("name", "", "显示名 / display name")
	subject := fs.String("sub", "", "用户编号 / subject (default: dev-<role>[-<school>])")
	ttl := fs.Duration("ttl", 8*time.Hour, "有效期 / validity")
	district := fs.String("district", env("HOUQIN_DISTRICT", "demo"), "区县编号 / district id (HOUQIN_DISTRICT)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "houqin token: 签发开发用登录令牌 / issue a development token (EdDSA JWT)\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := auth.Role(*role)
	if !r.Valid() {
		return fmt.Errorf("未知角色 / unknown role %q", *role)
	}
	if !r.DistrictWide() && *school == "" {
		return fmt.Errorf("角色 %s 需要 --school / role %s needs --school", r, r)
	}
	id := auth.Identity{Subject: *subject, Name: *name, Roles: []auth.Role{r}, District: *district}
	if !r.DistrictWide() {
		id.SchoolID = *school
	}
	tok, err := devToken(*data, id, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

// devToken signs a token for id with the dev signing key of the data folder.
func devToken(data string, id auth.Identity, ttl time.Duration) (string, error) {
	keyPath := filepath.Join(data, "dev-signing-key.pem")
	if _, err := os.Stat(keyPath); err != nil {
		return "", fmt.Errorf("找不到开发密钥 %s，请先运行 houqin dev / no dev signing key at %s: run houqin dev first", keyPath, keyPath)
	}
	key, err := auth.LoadOrCreateKey(keyPath)
	if err != nil {
		return "", err
	}
	if id.Subject == "" {
		id.Subject = "dev-" + string(id.Roles[0])
		if id.SchoolID != "" {
			id.Subject += "-" + id.SchoolID
		}
	}
	return auth.NewSigner(key, stack.Issuer, stack.Audience).Sign(id, ttl)
}

// self is how the user ran this binary, for hints they can paste.
func self() string {
	if strings.ContainsRune(os.Args[0], '/') {
		wd, _ := os.Getwd()
		abs, _ := filepath.Abs(os.Args[0])
		if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return "./" + rel
		}
		return os.Args[0]
	}
	return "houqin"
}
