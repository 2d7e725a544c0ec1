package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/metadata"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	"houqin.dev/tools/internal/stack"
)

var ledgerHeadings = []any{"序号", "资产编号", "资产名称", "分类", "规格型号", "单价（元）", "数量", "金额（元）", "购置日期",
	"取得方式", "经费来源", "存放地点", "使用部门", "保管人"}

// ledgerRow is row i of a generated ledger, in the forms schools type.
func ledgerRow(i int) []any {
	dates := []any{"2019-09-01", "2020/3/15", "2021年9月1日", 44805} // 44805: 2022-09-01 as an Excel date
	return []any{i + 1, fmt.Sprintf("ZC-%05d", i), []string{"钢琴", "课桌椅", "投影仪", "图书柜"}[i%4],
		[]string{"专用设备", "6", "2 通用设备", "家具、用具、装具及动植物"}[i%4], "型号" + fmt.Sprint(i%7),
		fmt.Sprintf("%d.50", 100+i%900), 2, fmt.Sprintf("%d.00", 2*(100+i%900)+1), dates[i%4],
		[]string{"购置", "", "接受捐赠", "调入"}[i%4], "财政拨款", fmt.Sprintf("教学楼%d", 100+i%40), "总务处", "李老师"}
}

func writeXLSX(t *testing.T, path string, rows [][]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	all := append([][]any{{"测试学校固定资产台帐"}, ledgerHeadings}, rows...)
	for i, r := range all {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

func writeCSV(t *testing.T, path string, rows [][]any) {
	t.Helper()
	var b strings.Builder
	for _, r := range append([][]any{ledgerHeadings}, rows...) {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = fmt.Sprintf("%q", fmt.Sprint(c))
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rows(from, to int) [][]any {
	var out [][]any
	for i := from; i < to; i++ {
		out = append(out, ledgerRow(i))
	}
	return out
}

// One district for every case (each its own school): real PostgreSQL, NATS and assets
// service, found by the command through the data folder as `houqin dev` leaves it.
func TestImportAssets(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{DataDir: dir, Log: logging.Discard(), District: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := stack.Dial(st.AssetsAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := assetsv1.NewAssetsServiceClient(conn)
	school := func(t *testing.T, id string) {
		tok, err := st.Token(auth.RoleBureauAdmin, "", "教育局", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.RegisterSchool(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok),
			&assetsv1.RegisterSchoolRequest{RequestId: "school-" + id, SchoolId: id, Name: "测试学校" + id,
				Kind: assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(t *testing.T, id string) (n, value int64) {
		t.Helper()
		if err := st.Assets.Store().Pool().QueryRow(ctx, `SELECT count(*), coalesce(sum(length(payload)), 0) FROM events
			WHERE stream_type='asset' AND school_id=$1`, id).Scan(&n, &value); err != nil {
			t.Fatal(err)
		}
		return n, value
	}
	var progress bytes.Buffer
	run := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		progress.Reset()
		err := importCmd(append(append([]string{"assets"}, args...), "--data", dir), &out, &progress)
		return out.String(), err
	}

	t.Run("valid xlsx, then the same file again", func(t *testing.T) {
		school(t, "imp-valid")
		path := filepath.Join(t.TempDir(), "台帐.xlsx")
		writeXLSX(t, path, rows(0, 40))
		out, err := run(t, path, "--school", "imp-valid")
		if err != nil || !strings.Contains(out, "registered 40, 0 already") {
			t.Fatalf("import: %v\n%s", err, out)
		}
		if n, _ := count(t, "imp-valid"); n != 40 {
			t.Fatalf("%d assets registered, want 40", n)
		}
		// The values as read: row 2 of the generator (i=1) is 6 课桌椅 at 101.50 × 2 on 2020-03-15.
		tok, _ := st.Token(auth.RoleTeacher, "imp-valid", "", time.Hour)
		var id string
		if err := st.Assets.Store().Pool().QueryRow(ctx, `SELECT substr(stream_id, 7) FROM unique_keys WHERE key = 'imp-valid/ZC-00001'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		got, err := client.GetAsset(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok),
			&assetsv1.GetAssetRequest{SchoolId: "imp-valid", AssetId: id})
		if err != nil {
			t.Fatal(err)
		}
		if a := got.Asset; a.Category != "6" || a.UnitPriceFen != 10150 || a.Quantity != 2 || a.AcquiredOn != "2020-03-15" ||
			a.Source != assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE || a.Location != "教学楼101" {
			t.Fatalf("asset as registered: %v", a)
		}

		out, err = run(t, path, "--school", "imp-valid")
		if err != nil || !strings.Contains(out, "registered 0, 40 already in the ledger") {
			t.Fatalf("re-import: %v\n%s", err, out)
		}
		// The file grew by ten rows: only those are new.
		writeXLSX(t, path, rows(0, 50))
		out, err = run(t, path, "--school", "imp-valid")
		if err != nil || !strings.Contains(out, "registered 10, 40 already") {
			t.Fatalf("grown file: %v\n%s", err, out)
		}
		n, before := count(t, "imp-valid")
		if n != 50 {
			t.Fatalf("%d assets after re-imports, want 50", n)
		}
		// A tag already in the ledger with other values is an error of its row.
		changed := rows(0, 50)
		changed[7][5] = "999.00"
		changed[7][7] = "1998.00"
		writeXLSX(t, path, changed)
		out, err = run(t, path, "--school", "imp-valid")
		if err == nil || !strings.Contains(out, "第 10 行「资产编号」：台帐中已有此资产编号，但内容不同") || !strings.Contains(out, "「单价（元）」文件为 \"999.00\"") {
			t.Fatalf("changed row: %v\n%s", err, out)
		}
		if n, after := count(t, "imp-valid"); n != 50 || after != before {
			t.Fatalf("refused import wrote: %d assets, %d payload bytes (was %d)", n, after, before)
		}
	})

	t.Run("dry run writes nothing", func(t *testing.T) {
		school(t, "imp-dry")
		// A class the bureau added to the district's tree is as good as a shipped one.
		tok, _ := st.Token(auth.RoleBureauAdmin, "", "教育局", time.Hour)
		if _, err := assetsv1.NewLedgerServiceClient(conn).AddCategory(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok),
			&assetsv1.AddCategoryRequest{RequestId: "category-207", Code: "207", Parent: "2", Name: "教学仪器", LifeMonths: 96,
				EffectiveFrom: "2017-01-01"}); err != nil {
			t.Fatal(err)
		}
		r := rows(0, 30)
		r[4][3] = "教学仪器"
		path := filepath.Join(t.TempDir(), "ledger.csv")
		writeCSV(t, path, r)
		out, err := run(t, "--dry-run", path, "--school", "imp-dry")
		if err != nil || !strings.Contains(out, "dry run: all 30 rows valid, 30 to register, 0 already in the ledger") {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		if n, _ := count(t, "imp-dry"); n != 0 {
			t.Fatalf("dry run registered %d assets", n)
		}
		out, err = run(t, path, "--school", "imp-dry")
		if err != nil || !strings.Contains(out, "registered 30") {
			t.Fatalf("import after the dry run: %v\n%s", err, out)
		}
	})

	t.Run("one bad row writes nothing", func(t *testing.T) {
		school(t, "imp-bad")
		dir := t.TempDir()
		// A row the file cannot hold (an impossible date) and one only the domain refuses (a
		// future date); each alone stops the import.
		for _, c := range []struct{ date, want string }{
			{"2019/2/30", "第 9 行「购置日期」：日期不存在 / row 9, column 购置日期: no such date"},
			{"2099-01-01", "第 9 行「购置日期」：购置日期不能晚于今天 / row 9, column 购置日期: acquisition date cannot be in the future"},
		} {
			r := rows(0, 20)
			r[6][8] = c.date // row 9 of the sheet: title, headings, then rows
			path := filepath.Join(dir, "bad.xlsx")
			writeXLSX(t, path, r)
			out, err := run(t, path, "--school", "imp-bad")
			if err == nil || !strings.Contains(out, c.want) || !strings.Contains(out, "1 problems found: nothing written") {
				t.Fatalf("bad row %s: %v\n%s", c.date, err, out)
			}
			if n, _ := count(t, "imp-bad"); n != 0 {
				t.Fatalf("%d assets written despite a bad row", n)
			}
		}
		// Two rows with one tag.
		r := rows(0, 5)
		r[3][1] = r[1][1]
		path := filepath.Join(dir, "dup.csv")
		writeCSV(t, path, r)
		out, err := run(t, path, "--school", "imp-bad")
		if err == nil || !strings.Contains(out, "第 5 行「资产编号」：与第 3 行资产编号重复") {
			t.Fatalf("duplicate tag: %v\n%s", err, out)
		}
		// An unknown school stops the import before any row.
		if _, err := run(t, path, "--school", "imp-nowhere"); err == nil || !strings.Contains(err.Error(), "未在本区登记") {
			t.Fatalf("unknown school: %v", err)
		}
		if n, _ := count(t, "imp-bad"); n != 0 {
			t.Fatalf("%d assets written by refused imports", n)
		}
	})

	t.Run("5000 rows", func(t *testing.T) {
		school(t, "imp-big")
		path := filepath.Join(t.TempDir(), "big.xlsx")
		writeXLSX(t, path, rows(0, 5000))
		out, err := run(t, path, "--school", "imp-big", "--workers", "16")
		if err != nil || !strings.Contains(out, "registered 5000, 0 already") {
			t.Fatalf("import: %v\n%s", err, out)
		}
		if n, _ := count(t, "imp-big"); n != 5000 {
			t.Fatalf("%d assets registered, want 5000", n)
		}
		// Not a terminal: plain progress lines, one per tenth of each phase.
		p := progress.String()
		if !strings.Contains(p, "校验 / checking 5000/5000 (100%)") || !regexp.MustCompile(`登记 / registering 25\d\d/5000 \(50%\)`).MatchString(p) ||
			strings.Contains(p, "\r") || strings.Count(p, "\n") != 22 {
			t.Fatalf("progress:\n%s", p)
		}
	})
}
