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
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/grpckit"
	"houqin.dev/tools/internal/assetimport"
	"houqin.dev/tools/internal/stack"
)

// errRowsInvalid makes the command exit non-zero when rows were refused.
var errRowsInvalid = errors.New("有行未通过校验 / some rows were refused")

const importUsage = `houqin import assets FILE.xlsx|FILE.csv --school S [--dry-run] [flags]

从学校的 Excel（.xlsx）或 CSV 资产台帐导入资产 / import a school's asset ledger from Excel (.xlsx) or CSV.

表头可用常见中文或英文名称 / headings may use the usual Chinese or English names:
  资产编号 名称 分类/分类代码 规格型号 单价 数量 金额 购置日期 取得方式 经费来源 存放地点 使用部门 保管人
  (tag name category model unit price quantity amount acquired on source funding source location department custodian)
金额为元（可带小数和千分位），日期可为 2019-09-01、2019/9/1、2019年9月1日 或 Excel 日期；分类填代码或名称；
取得方式空白按购置；标题行和“合计”行自动跳过。
Amounts in yuan (decimals and thousands separators allowed); dates 2019-09-01, 2019/9/1, 2019年9月1日 or
Excel dates; category by code or name; an empty source means purchase; title and 合计 rows are skipped.

先校验全部行（资产领域规则与服务端仅校验请求），任何一行有错则一条不写并列出行号与列；
资产编号已在台帐且内容相同的行视为已导入，内容不同的行报错；同一文件再次导入不会重复登记。
Every row is checked first (the assets domain's rules and the server's validate-only answer); if any
row is invalid nothing is written and each problem is listed by row and column. A tag already in the
ledger with the same values counts as imported; with other values it is an error. Importing the same
file again registers nothing new. Exit code 1 when rows were refused.

参数 / flags:
`

func importCmd(args []string, out, progress io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		o := importFlags(progress)
		o.fs.Usage()
		return flag.ErrHelp
	}
	if args[0] != "assets" {
		return fmt.Errorf("只能导入 assets / only `houqin import assets` exists, not %q", args[0])
	}
	o := importFlags(progress)
	// Flags may come before or after the file.
	var files []string
	rest := args[1:]
	for {
		if err := o.fs.Parse(rest); err != nil {
			return err
		}
		if o.fs.NArg() == 0 {
			break
		}
		files, rest = append(files, o.fs.Arg(0)), o.fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New("请给出一个 .xlsx 或 .csv 文件 / give one .xlsx or .csv file")
	}
	if *o.school == "" {
		return errors.New("请用 --school 指定学校编号 / give the school id with --school")
	}
	sheet, err := assetimport.ReadFile(files[0], *o.sheet)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "读取 %s：%d 行资产 / read %s: %d asset rows\n", files[0], len(sheet.Rows), files[0], len(sheet.Rows))

	addr, tok, err := o.connection()
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(grpckit.BearerCredentials{Token: tok, Insecure: true}))
	if err != nil {
		return err
	}
	defer conn.Close()
	loc, err := time.LoadLocation(*o.timezone)
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgressBar(progress)
	res, err := assetimport.Run(ctx, conn, sheet, assetimport.Options{
		School: *o.school, DryRun: *o.dryRun, Workers: *o.workers, Progress: bar.report,
		Today: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)})
	bar.finish()
	const shown = 200
	for i, e := range res.Errors {
		if i == shown {
			fmt.Fprintf(out, "… 另有 %d 处 / %d more\n", len(res.Errors)-shown, len(res.Errors)-shown)
			break
		}
		fmt.Fprintln(out, "✗", e)
	}
	switch {
	case err != nil && res.Registered > 0:
		fmt.Fprintf(out, "已登记 %d 条后中断；再次导入同一文件会补齐其余行 / stopped after registering %d: import the same file again to finish\n", res.Registered, res.Registered)
	case err != nil:
	case len(res.Errors) > 0 && res.Registered > 0:
		// Only when something changed between the check and the write (another user took a
		// tag meanwhile).
		fmt.Fprintf(out, "已登记 %d 条，%d 处在写入时被拒；修正后再次导入同一文件即可 / registered %d, %d refused while writing: fix them and import the same file again\n",
			res.Registered, len(res.Errors), res.Registered, len(res.Errors))
		err = errRowsInvalid
	case len(res.Errors) > 0:
		fmt.Fprintf(out, "发现 %d 处错误，未写入任何资产 / %d problems found: nothing written\n", len(res.Errors), len(res.Errors))
		err = errRowsInvalid
	case *o.dryRun:
		fmt.Fprintf(out, "试运行：全部 %d 行有效，将登记 %d 条，%d 条已在台帐；未写入 / dry run: all %d rows valid, %d to register, %d already in the ledger; nothing written\n",
			res.Rows, res.New, res.Existing, res.Rows, res.New, res.Existing)
	default:
		fmt.Fprintf(out, "已登记 %d 条，%d 条已在台帐 / registered %d, %d already in the ledger\n",
			res.Registered, res.Existing, res.Registered, res.Existing)
	}
	return err
}

type importOptions struct {
	fs                                 *flag.FlagSet
	school, sheet, assets, token, data *string
	district, timezone                 *string
	dryRun                             *bool
	workers                            *int
}

func importFlags(output io.Writer) *importOptions {
	fs := flag.NewFlagSet("houqin import assets", flag.ContinueOnError)
	fs.SetOutput(output)
	o := &importOptions{fs: fs,
		school:   fs.String("school", "", "学校编号（必填） / school id (required)"),
		dryRun:   fs.Bool("dry-run", false, "只校验，不写入 / check every row, write nothing"),
		sheet:    fs.String("sheet", "", "工作表名称（默认第一个可见的） / worksheet (default: the first visible one)"),
		assets:   fs.String("assets", os.Getenv("HOUQIN_ASSETS_ADDR"), "assets 服务的 gRPC 地址（默认：--data 中运行的 houqin dev） / gRPC address of the assets service (HOUQIN_ASSETS_ADDR; default: the houqin dev running on --data)"),
		token:    fs.String("token", os.Getenv("HOUQIN_TOKEN"), "登录令牌（默认：用 --data 的开发密钥签发该校总务主任令牌） / bearer token (HOUQIN_TOKEN; default: a logistics director of the school signed with the dev key of --data)"),
		data:     fs.String("data", env("HOUQIN_DATA", ".houqin"), "houqin dev 的数据目录 / data folder of houqin dev (HOUQIN_DATA)"),
		district: fs.String("district", env("HOUQIN_DISTRICT", "demo"), "区县编号（开发令牌用） / district id of the dev token (HOUQIN_DISTRICT)"),
		timezone: fs.String("timezone", env("HOUQIN_TIMEZONE", "Asia/Shanghai"), "区县时区（判断购置日期是否晚于今天） / the district's time zone, for today's date (HOUQIN_TIMEZONE)"),
		workers:  fs.Int("workers", 8, "并发请求数 / concurrent requests"),
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importUsage)
		fs.PrintDefaults()
	}
	return o
}

// connection returns the assets service's address and the token to call it with: as given,
// or those of the houqin dev running on the data folder.
func (o *importOptions) connection() (addr, token string, err error) {
	addr, token = *o.assets, *o.token
	if addr == "" {
		b, err := os.ReadFile(filepath.Join(*o.data, stack.AssetsAddrFile))
		if err != nil {
			return "", "", fmt.Errorf("请给出 --assets，或先运行 houqin dev / give --assets or run houqin dev first: %w", err)
		}
		addr = strings.TrimSpace(string(b))
	}
	if token == "" {
		token, err = devToken(*o.data, auth.Identity{Name: "台帐导入", Roles: []auth.Role{auth.RoleLogisticsDirector},
			District: *o.district, SchoolID: *o.school}, time.Hour)
	}
	return addr, token, err
}

// progressBar draws the phases of an import on stderr: a bar redrawn in place on a terminal,
// a plain line every tenth elsewhere (CI logs).
type progressBar struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	last  time.Time
	phase string
	step  int
	open  bool
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

var phaseNames = map[string]string{assetimport.PhaseCheck: "校验 / checking", assetimport.PhaseRegister: "登记 / registering"}

func (b *progressBar) report(phase string, done, total int) {
	if total == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if phase != b.phase {
		b.finishLocked()
		b.phase, b.step = phase, -1
	}
	if b.tty {
		if done < total && time.Since(b.last) < 100*time.Millisecond {
			return
		}
		b.last = time.Now()
		const width = 30
		filled := width * done / total
		fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d", phaseNames[phase], strings.Repeat("█", filled), strings.Repeat("░", width-filled), done, total)
		b.open = true
		return
	}
	if total < 500 { // small files need no progress lines
		return
	}
	if step := 10 * done / total; step > b.step {
		b.step = step
		fmt.Fprintf(b.w, "%s %d/%d (%d%%)\n", phaseNames[phase], done, total, 100*done/total)
	}
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishLocked()
}

func (b *progressBar) finishLocked() {
	if b.open {
		fmt.Fprintln(b.w)
		b.open = false
	}
}
