package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Report is everything one run measured: the summary rows printed as a table and the details
// behind them. It is also the JSON written to --out.
type Report struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Host       Host      `json:"host"`
	Settings   Settings  `json:"settings"`
	Rows       []Row     `json:"rows"`
	// Details.
	Pgbench    []PgbenchPoint    `json:"pgbench,omitempty"`
	Commands   []CommandPoint    `json:"commands,omitempty"`
	Relay      *Rate             `json:"relay,omitempty"`
	RawPublish *Rate             `json:"raw_publish,omitempty"`
	Projection *ProjectionResult `json:"projection,omitempty"`
	Ledger     *LedgerResult     `json:"ledger,omitempty"`
	Stocktake  *StocktakeResult  `json:"stocktake,omitempty"`
	Stock      *StockResult      `json:"stock,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// Host describes the machine, since every number is relative to it.
type Host struct {
	CPUs      int    `json:"cpus"`
	OS        string `json:"os"`
	GoVersion string `json:"go_version"`
	Hostname  string `json:"hostname"`
}

// Settings are the run's parameters.
type Settings struct {
	Duration string   `json:"duration_per_point"`
	Warmup   string   `json:"warmup_per_point"`
	Events   int      `json:"events"`
	Clients  []int    `json:"clients"`
	Phases   []string `json:"phases"`
}

// PgbenchPoint is pgbench at one client count.
type PgbenchPoint struct {
	Clients int `json:"clients"`
	PgbenchResult
}

// Row is one line of the summary: Houqin's rate, the raw limit it is compared with, and the
// target, if any.
type Row struct {
	Key    string  `json:"key"`
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	Houqin float64 `json:"houqin"`
	// Raw is the baseline measured in the same run (0: none).
	Raw     float64 `json:"raw,omitempty"`
	RawName string  `json:"raw_name,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	P50Ms   float64 `json:"p50_ms,omitempty"`
	P95Ms   float64 `json:"p95_ms,omitempty"`
	P99Ms   float64 `json:"p99_ms,omitempty"`
	Target  string  `json:"target,omitempty"`
	// Pass is set for rows with a target. A miss is information, never a failure.
	Pass *bool `json:"pass,omitempty"`
}

// Targets. Ratios are Houqin ÷ raw limit.
const (
	commandsTarget      = 0.50 // commands at commandsTargetAt clients vs pgbench
	commandsTargetAt    = 16
	relayTarget         = 0.50 // relay vs raw async publish
	projectionTarget    = 0.50 // projection vs raw batch insert
	projectionMinPerSec = 30000
)

func newReport(cfg Config) *Report {
	host, _ := os.Hostname()
	return &Report{StartedAt: time.Now(),
		Host: Host{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(), Hostname: host},
		Settings: Settings{Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(), Events: cfg.Events,
			Clients: cfg.Clients, Phases: cfg.Phases}}
}

func ratio(houqin, raw float64) float64 {
	if raw == 0 {
		return 0
	}
	return houqin / raw
}

func pass(ok bool) *bool { return &ok }

func (r *Report) addCommands(pg PgbenchResult, p CommandPoint) {
	r.Pgbench = append(r.Pgbench, PgbenchPoint{Clients: p.Clients, PgbenchResult: pg})
	r.Commands = append(r.Commands, p)
	row := Row{Key: fmt.Sprintf("commands_c%d", p.Clients),
		Metric: fmt.Sprintf("指令 %d并发 / commands ×%d", p.Clients, p.Clients),
		Unit:   "commands/s", Houqin: p.PerSec, Raw: pg.TPS, RawName: "pgbench", Ratio: ratio(p.PerSec, pg.TPS),
		P50Ms: p.P50Ms, P99Ms: p.P99Ms}
	if p.Clients == commandsTargetAt {
		row.Target = fmt.Sprintf("≥ %.0f%%", commandsTarget*100)
		row.Pass = pass(row.Ratio >= commandsTarget)
	}
	r.Rows = append(r.Rows, row)
}

func (r *Report) addRelay(relay, raw Rate) {
	r.Relay, r.RawPublish = &relay, &raw
	row := Row{Key: "relay", Metric: "外发 / relay outbox→JetStream", Unit: "events/s", Houqin: relay.PerSec,
		Raw: raw.PerSec, RawName: "async publish", Ratio: ratio(relay.PerSec, raw.PerSec),
		Target: fmt.Sprintf("≥ %.0f%%", relayTarget*100)}
	row.Pass = pass(row.Ratio >= relayTarget)
	r.Rows = append(r.Rows, row)
}

func (r *Report) addProjection(p ProjectionResult) {
	r.Projection = &p
	got := p.Projection.PerSec
	insert := Row{Key: "projection_vs_insert", Metric: "投影 / projection vs insert", Unit: "events/s", Houqin: got,
		Raw: p.RawInsert.PerSec, RawName: "batch insert", Ratio: ratio(got, p.RawInsert.PerSec),
		Target: fmt.Sprintf("≥ %.0f%%", projectionTarget*100)}
	insert.Pass = pass(insert.Ratio >= projectionTarget)
	fetch := Row{Key: "projection_vs_fetch", Metric: "投影 / projection vs fetch", Unit: "events/s", Houqin: got,
		Raw: p.RawFetch.PerSec, RawName: "fetch+ack", Ratio: ratio(got, p.RawFetch.PerSec)}
	abs := Row{Key: "projection_rate", Metric: "投影速率 / projection rate", Unit: "events/s", Houqin: got,
		Target: "≥ " + thousands(projectionMinPerSec) + "/s", Pass: pass(got >= projectionMinPerSec)}
	rebuild := Row{Key: "rebuild", Metric: "重建 / rebuild", Unit: "events/s", Houqin: p.Rebuild.PerSec,
		Raw: p.RawInsert.PerSec, RawName: "batch insert", Ratio: ratio(p.Rebuild.PerSec, p.RawInsert.PerSec)}
	r.Rows = append(r.Rows, insert, fetch, abs, rebuild)
}

func (r *Report) addLedger(l LedgerResult) {
	r.Ledger = &l
	for _, q := range l.Queries {
		row := Row{Key: q.Key, Metric: q.Metric, Unit: "queries/s", Houqin: q.PerSec, P50Ms: q.P50Ms, P95Ms: q.P95Ms, P99Ms: q.P99Ms,
			Target: fmt.Sprintf("p95 < %d ms", ledgerTargetP95Ms)}
		row.Pass = pass(q.P95Ms < ledgerTargetP95Ms)
		r.Rows = append(r.Rows, row)
	}
}

func (r *Report) addStocktake(s StocktakeResult) {
	r.Stocktake = &s
	raw := fmt.Sprintf("pgbench ×1 (%s)", "serial append")
	scans := Row{Key: "stocktake_scans", Metric: fmt.Sprintf("盘点扫描 %d件 / stocktake scans, %d items ×%d", s.Session.Items, s.Session.Items, s.Session.Scanners),
		Unit: "scans/s", Houqin: s.Session.ScansSec, Raw: s.Raw.TPS, RawName: raw, Ratio: ratio(s.Session.ScansSec, s.Raw.TPS),
		P50Ms: s.Session.P50Ms, P99Ms: s.Session.P99Ms}
	session := Row{Key: "stocktake_session", Metric: fmt.Sprintf("盘点全程 / session start %.0f ms + scans + close %.0f ms",
		s.Session.StartMs, s.Session.CloseMs), Unit: "items/s", Houqin: float64(s.Session.Items) / s.Session.Seconds,
		Raw: s.Raw.TPS, RawName: raw, Ratio: ratio(float64(s.Session.Items)/s.Session.Seconds, s.Raw.TPS)}
	uncached := Row{Key: "stocktake_scans_uncached", Metric: fmt.Sprintf("无缓存 %d件 / scans without state cache, %d items ×1", s.Uncached.Items, s.Uncached.Items),
		Unit: "scans/s", Houqin: s.Uncached.ScansSec, Raw: s.Raw.TPS, RawName: raw, Ratio: ratio(s.Uncached.ScansSec, s.Raw.TPS),
		P50Ms: s.Uncached.P50Ms, P99Ms: s.Uncached.P99Ms}
	r.Rows = append(r.Rows, scans, session, uncached)
}

func (r *Report) addStock(s StockResult) {
	r.Stock = &s
	serial := "pgbench ×1 (serial append)"
	many := fmt.Sprintf("pgbench ×%d", s.Items.Clients)
	row := func(key, metric string, x StockRun, raw PgbenchResult, rawName string) Row {
		return Row{Key: key, Metric: metric, Unit: "issues/s", Houqin: x.PerSec, Raw: raw.TPS, RawName: rawName, Ratio: ratio(x.PerSec, raw.TPS),
			P50Ms: x.P50Ms, P99Ms: x.P99Ms}
	}
	r.Rows = append(r.Rows,
		row("stock_issues_hot", fmt.Sprintf("出库 一种物资 / stock issues, one item ×%d, %d", s.Hot.Clients, s.Hot.Issues), s.Hot, s.RawSerial, serial),
		row("stock_issues_hot_uncached", fmt.Sprintf("无缓存 / without state cache, ×1, history %d events", s.Uncached.History), s.Uncached, s.RawSerial, serial),
		row("stock_issues_items", fmt.Sprintf("出库 %d 种物资 / stock issues, %d items ×%d", s.Items.Items, s.Items.Items, s.Items.Clients), s.Items, s.RawItems, many))
}

// WriteJSON writes the report to path, creating its folder.
func (r *Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

var header = []string{"指标 / metric", "本系统 / houqin", "机器上限 / raw limit", "比例 / ratio",
	"延迟 p50/p99 / latency", "目标 / target", "结果 / result"}

// WriteTable prints the summary rows as an aligned table.
func (r *Report) WriteTable(w io.Writer) {
	cells := [][]string{header}
	for _, row := range r.Rows {
		cells = append(cells, row.cells())
	}
	fmt.Fprintf(w, "Houqin 基准测试 / benchmarks — %s, %d CPU, %s；每点 / per point %s，事件 / events %s\n",
		r.StartedAt.Format("2006-01-02 15:04"), r.Host.CPUs, r.Host.GoVersion, r.Settings.Duration, thousands(float64(r.Settings.Events)))
	writeAligned(w, cells)
}

func (row Row) cells() []string {
	c := []string{row.Metric, thousands(row.Houqin) + "/s", "—", "—", "—", "—", "—"}
	if row.Raw > 0 {
		c[2] = fmt.Sprintf("%s/s %s", thousands(row.Raw), row.RawName)
		c[3] = fmt.Sprintf("%.1f%%", row.Ratio*100)
	}
	switch {
	case row.P95Ms > 0:
		c[4] = fmt.Sprintf("%.1f / %.1f ms, p95 %.1f", row.P50Ms, row.P99Ms, row.P95Ms)
	case row.P50Ms > 0:
		c[4] = fmt.Sprintf("%.1f / %.1f ms", row.P50Ms, row.P99Ms)
	}
	if row.Target != "" {
		c[5] = row.Target
	}
	if row.Pass != nil {
		c[6] = "MISS 未达标"
		if *row.Pass {
			c[6] = "PASS 达标"
		}
	}
	return c
}

// writeAligned pads columns by display width: a Chinese character takes two terminal columns,
// which text/tabwriter does not know.
func writeAligned(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(rows[0])
	total := 0
	for _, wd := range widths {
		total += wd + 2
	}
	fmt.Fprintln(w, strings.Repeat("─", total-2))
	for _, r := range rows[1:] {
		line(r)
	}
}

// displayWidth counts terminal columns: East Asian wide characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r), r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xff60:
			n += 2
		default:
			n++
		}
	}
	return n
}

// thousands formats v rounded to an integer with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
