// Package httpapi is the gateway's HTTP/JSON API for browsers and bureau systems. Each route
// maps to one gRPC call: the RPC route (rpc.go) reaches every RPC of the authorisation table by
// its name, the resource routes here give reports GET paths and exports. The caller's bearer
// token is passed through, so the services authenticate and authorise every request themselves.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// API holds the service clients.
type API struct {
	Assets  assetsv1.AssetsServiceClient
	Reports reportsv1.ReportsServiceClient
	// Backends are the connections of the RPC route, by proto package ("houqin.assets.v1" →
	// the assets service): it reaches every RPC of the authorisation table in these packages.
	Backends map[string]grpc.ClientConnInterface
	Log      *slog.Logger
	// Timeout bounds each backend call (default 15 s).
	Timeout time.Duration
}

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

var (
	unmarshal = protojson.UnmarshalOptions{}
	marshal   = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
)

// Register adds the API routes to mux: the RPC route for every command and query, and the
// resource routes (GET for reports with their exports, and the first asset commands).
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST "+RPCPrefix+"{service}/{method}", a.rpc())
	mux.Handle("POST /api/v1/schools", route(a, a.Assets.RegisterSchool, func(*http.Request, *assetsv1.RegisterSchoolRequest) {}))
	mux.Handle("POST /api/v1/schools/{school}/assets", route(a, a.Assets.RegisterAsset,
		func(r *http.Request, m *assetsv1.RegisterAssetRequest) { m.SchoolId = r.PathValue("school") }))
	mux.Handle("GET /api/v1/schools/{school}/assets/{asset}", route(a, a.Assets.GetAsset,
		func(r *http.Request, m *assetsv1.GetAssetRequest) {
			m.SchoolId, m.AssetId = r.PathValue("school"), r.PathValue("asset")
		}))
	mux.Handle("POST /api/v1/schools/{school}/assets/{asset}/transfer", route(a, a.Assets.TransferAsset,
		func(r *http.Request, m *assetsv1.TransferAssetRequest) {
			m.SchoolId, m.AssetId = r.PathValue("school"), r.PathValue("asset")
		}))
	mux.Handle("GET /api/v1/schools/{school}/ledger", route(a, a.Reports.GetAssetLedger,
		func(r *http.Request, m *reportsv1.GetAssetLedgerRequest) {
			m.SchoolId, m.AsOf = r.PathValue("school"), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/district/ledger", route(a, a.Reports.GetDistrictLedger,
		func(r *http.Request, m *reportsv1.GetDistrictLedgerRequest) { m.AsOf = r.URL.Query().Get("as_of") }))
	mux.Handle("GET /api/v1/district/ledger/{dimension}", route(a, a.Reports.GetDistrictLedgerBreakdown,
		func(r *http.Request, m *reportsv1.GetDistrictLedgerBreakdownRequest) {
			m.Dimension, m.AsOf, m.Key = r.PathValue("dimension"), r.URL.Query().Get("as_of"), r.URL.Query().Get("key")
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/budget", route(a, a.Reports.GetBudgetSpend,
		func(r *http.Request, m *reportsv1.GetBudgetSpendRequest) {
			m.SchoolId, m.FiscalYear = r.PathValue("school"), queryYear(r.URL.Query().Get("fiscal_year"))
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/approvals", route(a, a.Reports.GetApprovalsWaiting,
		func(r *http.Request, m *reportsv1.GetApprovalsWaitingRequest) {
			m.SchoolId, m.AsOf = r.PathValue("school"), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/compliance", route(a, a.Reports.GetProcurementCompliance,
		func(r *http.Request, m *reportsv1.GetProcurementComplianceRequest) {
			m.SchoolId, m.From, m.To = r.PathValue("school"), r.URL.Query().Get("from"), r.URL.Query().Get("to")
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/fees", route(a, a.Reports.GetFeeSettlement,
		func(r *http.Request, m *reportsv1.GetFeeSettlementRequest) {
			m.SchoolId, m.Term = r.PathValue("school"), r.URL.Query().Get("term")
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/stock-audit", route(a, a.Reports.GetStockAudit,
		func(r *http.Request, m *reportsv1.GetStockAuditRequest) {
			m.SchoolId, m.Month = r.PathValue("school"), r.URL.Query().Get("month")
		}))
	mux.Handle("GET /api/v1/schools/{school}/procurement/stock", route(a, a.Reports.GetStockValue,
		func(r *http.Request, m *reportsv1.GetStockValueRequest) {
			m.SchoolId, m.AsOf = r.PathValue("school"), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/district/procurement/compliance", route(a, a.Reports.GetDistrictCompliance,
		func(r *http.Request, m *reportsv1.GetDistrictComplianceRequest) {
			m.From, m.To = r.URL.Query().Get("from"), r.URL.Query().Get("to")
		}))
	mux.Handle("GET /api/v1/district/procurement/stock", route(a, a.Reports.GetDistrictStock,
		func(r *http.Request, m *reportsv1.GetDistrictStockRequest) { m.AsOf = r.URL.Query().Get("as_of") }))
	mux.Handle("GET /api/v1/district/procurement/fees", route(a, a.Reports.GetDistrictFees,
		func(r *http.Request, m *reportsv1.GetDistrictFeesRequest) { m.Term = r.URL.Query().Get("term") }))
	mux.Handle("GET /api/v1/district/procurement", route(a, a.Reports.GetDistrictProcurement,
		func(r *http.Request, m *reportsv1.GetDistrictProcurementRequest) {
			m.FiscalYear, m.AsOf = queryYear(r.URL.Query().Get("fiscal_year")), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/schools/{school}/ledger/{dimension}", route(a, a.Reports.GetLedgerBreakdown,
		func(r *http.Request, m *reportsv1.GetLedgerBreakdownRequest) {
			m.SchoolId, m.Dimension, m.AsOf = r.PathValue("school"), r.PathValue("dimension"), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/schools/{school}/repairs", route(a, a.Reports.GetRepairsReport,
		func(r *http.Request, m *reportsv1.GetRepairsReportRequest) {
			m.SchoolId, m.From, m.To = r.PathValue("school"), r.URL.Query().Get("from"), r.URL.Query().Get("to")
		}))
	mux.Handle("GET /api/v1/schools/{school}/loans", route(a, a.Reports.GetLoansReport,
		func(r *http.Request, m *reportsv1.GetLoansReportRequest) {
			m.SchoolId, m.AsOf = r.PathValue("school"), r.URL.Query().Get("as_of")
		}))
	mux.Handle("GET /api/v1/schools/{school}/writeoffs", route(a, a.Reports.GetWriteOffsReport,
		func(r *http.Request, m *reportsv1.GetWriteOffsReportRequest) {
			m.SchoolId, m.From, m.To = r.PathValue("school"), r.URL.Query().Get("from"), r.URL.Query().Get("to")
		}))
	mux.Handle("GET /api/v1/schools/{school}/custody", route(a, a.Reports.GetCustodyCoverage,
		func(r *http.Request, m *reportsv1.GetCustodyCoverageRequest) {
			m.SchoolId, m.Term = r.PathValue("school"), r.URL.Query().Get("term")
		}))
	mux.Handle("GET /api/v1/schools/{school}/stocktakes/variance", route(a, a.Reports.GetStocktakeVariance,
		func(r *http.Request, m *reportsv1.GetStocktakeVarianceRequest) {
			m.SchoolId, m.SessionId = r.PathValue("school"), r.URL.Query().Get("session_id")
		}))
	mux.Handle("GET /api/v1/schools/{school}/events", route(a, a.Reports.ListEvents,
		func(r *http.Request, m *reportsv1.ListEventsRequest) {
			q := r.URL.Query()
			m.SchoolId, m.PageToken, m.PageSize = r.PathValue("school"), q.Get("page_token"), queryInt32(q.Get("page_size"))
			m.Drill = &reportsv1.Drill{Report: q.Get("report"), Key: q.Get("key"), From: q.Get("from"), To: q.Get("to")}
		}))
}

// queryYear reads an optional year: empty is 0 (the current year), anything unreadable -1,
// which the service refuses with a field violation.
func queryYear(v string) int32 {
	if v == "" {
		return 0
	}
	return queryInt32(v)
}

// queryInt32 reads an optional number from the query; anything unreadable becomes -1, which
// the service refuses with a field violation.
func queryInt32(v string) int32 {
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return -1
	}
	return int32(n)
}

// route turns one gRPC method into an HTTP handler: the JSON body (for POST) is the request
// message, bind fills in path and query values, and the response message is the JSON reply.
func route[Req proto.Message, Resp proto.Message](a *API, call func(context.Context, Req, ...grpc.CallOption) (Resp, error),
	bind func(*http.Request, Req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var zero Req
		req := zero.ProtoReflect().New().Interface().(Req)
		if r.Method == http.MethodPost && !readRequest(w, r, req) {
			return
		}
		bind(r, req)
		ctx, cancel := a.outgoing(r)
		defer cancel()
		format := r.URL.Query().Get("format")
		if r.Method == http.MethodGet && format != "" {
			export(a, w, r, format, req, func(req Req) (proto.Message, error) { return call(ctx, req) })
			return
		}
		resp, err := call(ctx, req)
		a.reply(w, r, resp, err)
	})
}

// readRequest reads the JSON body into req (an empty body leaves it empty); the
// Idempotency-Key header stands in for a missing request_id. On failure it has answered 400.
func readRequest(w http.ResponseWriter, r *http.Request, req proto.Message) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, status.Error(codes.InvalidArgument, "请求体过大或读取失败 / request body too large or unreadable"))
		return false
	}
	if len(body) > 0 {
		if err := unmarshal.Unmarshal(body, req); err != nil {
			writeError(w, status.Error(codes.InvalidArgument, "JSON格式有误 / malformed JSON: "+err.Error()))
			return false
		}
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		m := req.ProtoReflect()
		f := m.Descriptor().Fields().ByName("request_id")
		if f != nil && f.Kind() == protoreflect.StringKind && m.Get(f).String() == "" {
			m.Set(f, protoreflect.ValueOfString(k))
		}
	}
	return true
}

// outgoing is the context of a backend call: bounded by the timeout, carrying the caller's
// token and correlation id (the gateway holds no authority of its own).
func (a *API) outgoing(r *http.Request) (context.Context, context.CancelFunc) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	if h := r.Header.Get("Authorization"); h != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", h)
	}
	if c := r.Header.Get("X-Correlation-Id"); c != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-correlation-id", c)
	}
	return ctx, cancel
}

// reply answers a backend call: the response message as JSON, or the error.
func (a *API) reply(w http.ResponseWriter, r *http.Request, resp proto.Message, err error) {
	if err != nil {
		a.backendError(w, r, err)
		return
	}
	b, err := marshal.Marshal(resp)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

func (a *API) backendError(w http.ResponseWriter, r *http.Request, err error) {
	if status.Code(err) == codes.Internal || status.Code(err) == codes.Unavailable {
		a.Log.ErrorContext(r.Context(), "backend call failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

// MaxExportRows bounds one export.
const MaxExportRows = 200_000

// export answers a GET route as a file (?format=csv|xlsx): the reply's table (see TableOf;
// ?table= names another repeated field of the reply, e.g. table=items), every page of it when
// the call pages (page_token → next_page_token).
func export[Req proto.Message](a *API, w http.ResponseWriter, r *http.Request, format string, req Req, call func(Req) (proto.Message, error)) {
	if _, ok := contentTypes[format]; !ok {
		st, _ := status.New(codes.InvalidArgument, "导出格式须为csv或xlsx / format must be csv or xlsx").WithDetails(
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "format", Description: "csv | xlsx"}}})
		writeError(w, st.Err())
		return
	}
	table := r.URL.Query().Get("table")
	rm := req.ProtoReflect()
	pageToken := rm.Descriptor().Fields().ByName("page_token")
	if size := rm.Descriptor().Fields().ByName("page_size"); size != nil && rm.Get(size).Int() == 0 {
		rm.Set(size, protoreflect.ValueOfInt32(500))
	}
	var pages []proto.Message
	rows := 0
	for {
		resp, err := call(req)
		if err != nil {
			a.backendError(w, r, err)
			return
		}
		pages = append(pages, resp)
		t, _ := TableNamed(table, resp)
		rows += len(t.Rows)
		next := resp.ProtoReflect().Descriptor().Fields().ByName("next_page_token")
		if pageToken == nil || next == nil || rows >= MaxExportRows {
			break
		}
		tok := resp.ProtoReflect().Get(next).String()
		if tok == "" {
			break
		}
		rm.Set(pageToken, protoreflect.ValueOfString(tok))
	}
	t, ok := TableNamed(table, pages...)
	if !ok && table != "" {
		st, _ := status.New(codes.InvalidArgument, "没有这个表格 / no such table").WithDetails(
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "table", Description: "没有这个表格 / no such table"}}})
		writeError(w, st.Err())
		return
	}
	if !ok {
		writeError(w, status.Error(codes.Unimplemented, "此接口没有可导出的表格 / this route has no table to export"))
		return
	}
	var b []byte
	var err error
	if format == FormatCSV {
		b, err = t.CSV()
	} else {
		b, err = t.XLSX()
	}
	if err != nil {
		a.Log.ErrorContext(r.Context(), "export failed", "path", r.URL.Path, "err", err)
		writeError(w, status.Error(codes.Internal, "导出失败 / export failed"))
		return
	}
	w.Header().Set("Content-Type", contentTypes[format])
	w.Header().Set("Content-Disposition", disposition(exportName(r.URL.Path, r.URL.Query(), format)))
	_, _ = w.Write(b)
}

// ErrorBody is the JSON of an error reply.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries the gRPC status in JSON.
type ErrorDetail struct {
	Code            string            `json:"code"`
	Message         string            `json:"message"`
	Reason          string            `json:"reason,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	FieldViolations []FieldViolation  `json:"field_violations,omitempty"`
}

// FieldViolation is one invalid field.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// httpStatus follows the usual gRPC → HTTP mapping (grpc-gateway's, Connect's) but for
// FailedPrecondition: a broken business rule (a reason code such as ASSET_TAG_TAKEN) is 422, so
// a client tells it from bad input (400, with field violations) and from a concurrent update
// (Aborted, 409) by the status alone.
var httpStatus = map[codes.Code]int{
	codes.OK: http.StatusOK, codes.InvalidArgument: http.StatusBadRequest, codes.FailedPrecondition: http.StatusUnprocessableEntity,
	codes.OutOfRange: http.StatusBadRequest, codes.Unauthenticated: http.StatusUnauthorized,
	codes.PermissionDenied: http.StatusForbidden, codes.NotFound: http.StatusNotFound, codes.Aborted: http.StatusConflict,
	codes.AlreadyExists: http.StatusConflict, codes.ResourceExhausted: http.StatusTooManyRequests,
	codes.Canceled: 499, codes.DeadlineExceeded: http.StatusGatewayTimeout, codes.Unavailable: http.StatusServiceUnavailable,
	codes.Unimplemented: http.StatusNotImplemented,
}

func writeError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	if errors.Is(err, context.DeadlineExceeded) {
		st = status.New(codes.DeadlineExceeded, "超时 / timed out")
	}
	d := ErrorDetail{Code: st.Code().String(), Message: st.Message()}
	for _, x := range st.Details() {
		switch v := x.(type) {
		case *errdetails.ErrorInfo:
			d.Reason, d.Metadata = v.Reason, v.Metadata
		case *errdetails.BadRequest:
			for _, f := range v.FieldViolations {
				d.FieldViolations = append(d.FieldViolations, FieldViolation{Field: f.Field, Description: f.Description})
			}
		}
	}
	code, ok := httpStatus[st.Code()]
	if !ok {
		code = http.StatusInternalServerError
	}
	d.Code = strings.ToUpper(toSnake(d.Code))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: d})
}

// toSnake turns "InvalidArgument" into "invalid_argument".
func toSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
