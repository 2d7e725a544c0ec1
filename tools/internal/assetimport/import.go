package assetimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// Options of an import.
type Options struct {
	School string
	// DryRun checks every row (here and on the server) and writes nothing.
	DryRun bool
	// Workers is how many calls are in flight at once (default 8).
	Workers int
	// Today is the district's current date, for the domain's check of acquisition dates.
	Today time.Time
	// Progress, when set, is told how far a phase ("check" or "register") has come.
	Progress func(phase string, done, total int)
}

// Phases reported to Options.Progress.
const (
	PhaseCheck    = "check"
	PhaseRegister = "register"
)

// Result is what an import found and did.
type Result struct {
	// Rows is the number of data rows read.
	Rows int
	// New rows: registered, or on a dry run (or when any row is invalid) to be registered.
	New int
	// Existing rows are already in the ledger with the same values (an earlier import).
	Existing int
	// Registered is how many assets this run wrote.
	Registered int
	// Errors are the invalid rows, in row order. Nothing is written when there are any.
	Errors []RowError
}

// RowError is one problem of one row.
type RowError struct {
	Line int
	// Heading of the column as the file names it, or empty for the row as a whole.
	Heading string
	// Message reads "中文 / English".
	Message string
}

func (e RowError) String() string {
	zh, en, found := strings.Cut(e.Message, " / ")
	if !found {
		en = zh
	}
	if e.Heading == "" {
		return fmt.Sprintf("第 %d 行：%s / row %d: %s", e.Line, zh, e.Line, en)
	}
	return fmt.Sprintf("第 %d 行「%s」：%s / row %d, column %s: %s", e.Line, e.Heading, zh, e.Line, e.Heading, en)
}

// RequestID is the request id of a row's registration: derived from school and tag, so a
// registration retried after a lost answer, or the same file imported again, cannot register a
// second asset.
func RequestID(school, tag string) string {
	sum := sha256.Sum256([]byte(school + "/" + tag))
	return "import-" + hex.EncodeToString(sum[:16])
}

// item is a row on its way to the ledger.
type item struct {
	line     int
	req      *assetsv1.RegisterAssetRequest
	existing bool
}

// Run imports sheet into school's ledger through client. It checks every row first — reading,
// the assets domain's rules, duplicate tags in the file, then the server's own answer to a
// validate-only registration — and registers nothing unless every row passed and this is not a
// dry run. An error is returned for what stops the whole import (no connection, no
// permission, an unknown school); problems of rows are in Result.Errors.
func Run(ctx context.Context, conn grpc.ClientConnInterface, sheet *Sheet, o Options) (Result, error) {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	res := Result{Rows: len(sheet.Rows)}
	client := assetsv1.NewAssetsServiceClient(conn)
	tree, err := districtCategories(ctx, assetsv1.NewLedgerServiceClient(conn), o.School)
	if err != nil {
		return res, err
	}
	var items []*item
	tags := map[string]int{}
	for _, row := range sheet.Rows {
		req, bad := toRequest(sheet, row, o.School, tree)
		if len(bad) == 0 {
			bad = checkDomain(sheet, row.Line, req, o.Today, tree)
		}
		if first, dup := tags[req.Tag]; dup && req.Tag != "" {
			bad = append(bad, RowError{row.Line, sheet.Heading(ColTag),
				fmt.Sprintf("与第 %d 行资产编号重复 / same tag as row %d", first, first)})
		} else if req.Tag != "" {
			tags[req.Tag] = row.Line
		}
		res.Errors = append(res.Errors, bad...)
		if len(bad) == 0 {
			items = append(items, &item{line: row.Line, req: req})
		}
	}

	// The server's answer for every row the domain accepted, without writing.
	var mu sync.Mutex
	err = each(ctx, items, o.Workers, PhaseCheck, o.Progress, func(ctx context.Context, it *item) error {
		bad, existing, err := check(ctx, client, sheet, it)
		mu.Lock()
		defer mu.Unlock()
		res.Errors = append(res.Errors, bad...)
		it.existing = existing
		return err
	})
	if err != nil {
		return res, err
	}
	var todo []*item
	for _, it := range items {
		if it.existing {
			res.Existing++
		} else {
			todo = append(todo, it)
		}
	}
	res.New = len(todo)
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	if len(res.Errors) > 0 || o.DryRun {
		return res, nil
	}

	var written atomic.Int64
	err = each(ctx, todo, o.Workers, PhaseRegister, o.Progress, func(ctx context.Context, it *item) error {
		req := cloneReq(it.req)
		req.ValidateOnly = false
		_, err := client.RegisterAsset(ctx, req)
		if err == nil {
			written.Add(1)
			return nil
		}
		// Something changed since the check (someone took the tag meanwhile): a row error.
		bad, fatal := rowErrors(sheet, it.line, err)
		if fatal != nil {
			return fatal
		}
		mu.Lock()
		res.Errors = append(res.Errors, bad...)
		mu.Unlock()
		return nil
	})
	res.Registered = int(written.Load())
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	return res, err
}

// districtCategories is the district's category tree (the shipped classes and those the
// bureau added), so rows may name any class the server accepts.
func districtCategories(ctx context.Context, c assetsv1.LedgerServiceClient, school string) (domain.CategoryTree, error) {
	tree := domain.DefaultCategoryTree()
	res, err := c.ListCategories(ctx, &assetsv1.ListCategoriesRequest{SchoolId: school})
	if err != nil {
		return tree, fmt.Errorf("读取资产分类 / reading the category tree: %w", err)
	}
	for _, c := range res.Categories {
		if _, known := tree.Get(c.Code); known {
			continue
		}
		added := &eventsv1.CategoryAdded{Code: c.Code, Parent: c.Parent, Name: c.Name, NeverDepreciated: c.NeverDepreciated}
		if len(c.Lives) > 0 {
			added.LifeMonths, added.EffectiveFrom = c.Lives[0].Months, c.Lives[0].EffectiveFrom
		}
		tree = domain.EvolveCategoryTree(tree, added)
	}
	return tree, nil
}

// each runs f over items on workers goroutines, reporting progress; the first error stops it.
func each(ctx context.Context, items []*item, workers int, phase string, progress func(string, int, int), f func(context.Context, *item) error) error {
	g, ctx := errgroup.WithContext(ctx)
	next := make(chan *item)
	var done atomic.Int64
	if progress != nil {
		progress(phase, 0, len(items))
	}
	g.Go(func() error {
		defer close(next)
		for _, it := range items {
			select {
			case next <- it:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for it := range next {
				if err := f(ctx, it); err != nil {
					return err
				}
				if n := done.Add(1); progress != nil {
					progress(phase, int(n), len(items))
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// check asks the server whether the row's registration would go through. A tag already in
// the ledger is fine when the asset holding it has the row's values (imported before).
func check(ctx context.Context, client assetsv1.AssetsServiceClient, sheet *Sheet, it *item) ([]RowError, bool, error) {
	req := cloneReq(it.req)
	req.ValidateOnly = true
	_, err := client.RegisterAsset(ctx, req)
	if err == nil {
		return nil, false, nil
	}
	if holder, ok := tagHolder(err); ok {
		got, gerr := client.GetAsset(ctx, &assetsv1.GetAssetRequest{SchoolId: req.SchoolId, AssetId: holder})
		if gerr != nil {
			return nil, false, fmt.Errorf("读取资产 %s / reading asset %s: %w", holder, holder, gerr)
		}
		if diff := differences(sheet, req, got.Asset); len(diff) > 0 {
			return []RowError{{it.line, sheet.Heading(ColTag),
				"台帐中已有此资产编号，但内容不同：" + strings.Join(diff, "；") + " / the ledger already has this tag with other values"}}, false, nil
		}
		return nil, true, nil
	}
	bad, fatal := rowErrors(sheet, it.line, err)
	return bad, false, fatal
}

// tagHolder returns the asset holding a taken tag, from the refusal's metadata.
func tagHolder(err error) (string, bool) {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Reason == string(domain.ReasonTagTaken) {
			id, found := strings.CutPrefix(ei.Metadata["stream_id"], "asset:")
			return id, found
		}
	}
	return "", false
}

// rowErrors turns a server refusal into row errors, or into an error that stops the import
// when it is not about the row (connection, permission, an unknown school).
func rowErrors(sheet *Sheet, line int, err error) ([]RowError, error) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument:
		var out []RowError
		for _, d := range st.Details() {
			br, ok := d.(*errdetails.BadRequest)
			if !ok {
				continue
			}
			for _, v := range br.FieldViolations {
				if _, column := headings[Column(v.Field)]; !column {
					return nil, fmt.Errorf("%s: %s", v.Field, v.Description) // school_id, request_id: not the file's
				}
				out = append(out, RowError{line, sheet.Heading(Column(v.Field)), v.Description})
			}
		}
		if len(out) == 0 {
			out = append(out, RowError{Line: line, Message: st.Message()})
		}
		return out, nil
	case codes.FailedPrecondition, codes.AlreadyExists:
		for _, d := range st.Details() {
			if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Reason == string(domain.ReasonSchoolUnknown) {
				return nil, errors.New(st.Message())
			}
		}
		heading := ""
		if _, taken := tagHolder(err); taken {
			heading = sheet.Heading(ColTag)
		}
		return []RowError{{line, heading, st.Message()}}, nil
	}
	return nil, err
}

// toRequest reads one row into a registration, or says what in it cannot be read.
func toRequest(sheet *Sheet, row Row, school string, tree domain.CategoryTree) (*assetsv1.RegisterAssetRequest, []RowError) {
	var bad []RowError
	fail := func(c Column, err error) {
		bad = append(bad, RowError{row.Line, sheet.Heading(c), err.Error()})
	}
	cell := func(c Column) string { return row.Cells[c] }
	req := &assetsv1.RegisterAssetRequest{SchoolId: school, Tag: cell(ColTag), Name: cell(ColName), Model: cell(ColModel),
		FundingSource: cell(ColFunding), Location: cell(ColLocation), Department: cell(ColDepartment), Custodian: cell(ColCustodian)}
	req.RequestId = RequestID(school, req.Tag)
	var err error
	if req.Category, err = parseCategory(cell(ColCategory), tree); err != nil {
		fail(ColCategory, err)
	}
	if req.AcquiredOn, err = parseDate(cell(ColAcquiredOn)); err != nil {
		fail(ColAcquiredOn, err)
	}
	src, err := parseSource(cell(ColSource))
	if err != nil {
		fail(ColSource, err)
	}
	req.Source = sourceEnum[src]
	req.Quantity = 1 // a row without a quantity is one item
	if q := cell(ColQuantity); q != "" {
		if req.Quantity, err = parseQuantity(q); err != nil {
			fail(ColQuantity, err)
		}
	}
	price, amount := cell(ColUnitPrice), cell(ColAmount)
	if price != "" || amount == "" {
		if req.UnitPriceFen, err = parseFen(price); err != nil {
			fail(ColUnitPrice, err)
		}
	}
	if amount != "" && req.Quantity > 0 {
		total, err := parseFen(amount)
		switch {
		case err != nil:
			fail(ColAmount, err)
		case price == "" && total%req.Quantity != 0:
			fail(ColAmount, fmt.Errorf("金额不能被数量整除，请填单价 / the amount does not divide by the quantity: give the unit price"))
		case price == "":
			req.UnitPriceFen = total / req.Quantity
		case req.UnitPriceFen > 0 && total != req.UnitPriceFen*req.Quantity:
			fail(ColAmount, fmt.Errorf("金额 %s 元不等于单价×数量 %s 元 / amount %s ≠ unit price × quantity %s",
				yuan(total), yuan(req.UnitPriceFen*req.Quantity), yuan(total), yuan(req.UnitPriceFen*req.Quantity)))
		}
	}
	return req, bad
}

var sourceEnum = map[string]assetsv1.AcquisitionSource{
	"purchase":      assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE,
	"donation":      assetsv1.AcquisitionSource_ACQUISITION_SOURCE_DONATION,
	"transfer_in":   assetsv1.AcquisitionSource_ACQUISITION_SOURCE_TRANSFER_IN,
	"school_merger": assetsv1.AcquisitionSource_ACQUISITION_SOURCE_SCHOOL_MERGER,
}

func sourceName(s assetsv1.AcquisitionSource) string {
	for name, e := range sourceEnum {
		if e == s {
			return name
		}
	}
	return ""
}

// checkDomain runs the assets domain's own decision on the row, so the import refuses what
// the service would, with the same words, before anything is sent.
func checkDomain(sheet *Sheet, line int, req *assetsv1.RegisterAssetRequest, today time.Time, tree domain.CategoryTree) []RowError {
	c := domain.RegisterAsset{SchoolID: req.SchoolId, Tag: strings.TrimSpace(req.Tag), Name: strings.TrimSpace(req.Name),
		Category: req.Category, Model: strings.TrimSpace(req.Model), UnitPriceFen: req.UnitPriceFen, Quantity: req.Quantity,
		AcquiredOn: req.AcquiredOn, Source: sourceName(req.Source), FundingSource: strings.TrimSpace(req.FundingSource),
		Location: strings.TrimSpace(req.Location), Department: strings.TrimSpace(req.Department),
		Custodian: strings.TrimSpace(req.Custodian)}
	day, _ := time.Parse(domain.DateLayout, req.AcquiredOn)
	_, err := domain.DecideRegisterAsset(domain.Asset{}, c, domain.RegisterRules{Today: today,
		Policy: domain.DefaultPolicies.At(day), Categories: tree})
	inv, ok := errs.As[*errs.InvalidError](err)
	if !ok {
		return nil // rules beyond the input (the school, the tag) are the server's check
	}
	var out []RowError
	for _, v := range inv.Violations {
		out = append(out, RowError{line, sheet.Heading(Column(v.Field)), v.Description})
	}
	return out
}

// differences lists the fields in which the ledger's asset differs from the row.
func differences(sheet *Sheet, req *assetsv1.RegisterAssetRequest, a *assetsv1.Asset) []string {
	var out []string
	diff := func(c Column, file, ledger string) {
		if strings.TrimSpace(file) != ledger {
			out = append(out, fmt.Sprintf("「%s」文件为 %q、台帐为 %q", sheet.Heading(c), file, ledger))
		}
	}
	diff(ColName, req.Name, a.Name)
	diff(ColCategory, req.Category, a.Category)
	diff(ColModel, req.Model, a.Model)
	diff(ColUnitPrice, yuan(req.UnitPriceFen), yuan(a.UnitPriceFen))
	diff(ColQuantity, fmt.Sprint(req.Quantity), fmt.Sprint(a.Quantity))
	diff(ColAcquiredOn, req.AcquiredOn, a.AcquiredOn)
	diff(ColSource, domain.Sources[sourceName(req.Source)], domain.Sources[sourceName(a.Source)])
	diff(ColFunding, req.FundingSource, a.FundingSource)
	diff(ColLocation, req.Location, a.Location)
	diff(ColDepartment, req.Department, a.Department)
	diff(ColCustodian, req.Custodian, a.Custodian)
	return out
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

func cloneReq(r *assetsv1.RegisterAssetRequest) *assetsv1.RegisterAssetRequest {
	return proto.Clone(r).(*assetsv1.RegisterAssetRequest)
}
