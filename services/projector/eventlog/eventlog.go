// Package eventlog is the drill-down index (追溯): every event the projector received, per
// school and stream, with its business and record time and its payload as JSON, so a report
// row can list the events behind its number.
package eventlog

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/encoding/protojson"

	"houqin.dev/platform/event"
)

// Projection builds the index.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "eventlog" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the table in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	s := pgx.Identifier{schema}.Sanitize()
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.events (
    service        text NOT NULL,
    stream_id      text NOT NULL,
    version        bigint NOT NULL,
    event_id       uuid NOT NULL,
    school_id      text NOT NULL,
    type           text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    actor          text NOT NULL,
    policy_version text NOT NULL,
    payload        json NOT NULL, -- protojson text as produced (json keeps its field order)
    PRIMARY KEY (service, stream_id, version)
);
-- Drill-down lists a school's streams in business-time order.
CREATE INDEX IF NOT EXISTS events_by_school_stream ON %[1]s.events (school_id, stream_id, occurred_at);`, s))
	return err
}

var toJSON = protojson.MarshalOptions{UseProtoNames: true}

// Service is the service an event type belongs to: houqin.<service>.events.v1.X.
func Service(typ string) string {
	parts := strings.Split(typ, ".")
	if len(parts) > 2 && parts[0] == "houqin" {
		return parts[1]
	}
	return ""
}

// Apply indexes a batch with one insert. The key is the stream position, so an event
// delivered again (even under another message id) is indexed once.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	var (
		services, streams, schools, types, actors, policies, payloads = make([]string, 0, n), make([]string, 0, n),
			make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		versions           = make([]int64, 0, n)
		ids                = make([][16]byte, 0, n)
		occurred, recorded = make([]time.Time, 0, n), make([]time.Time, 0, n)
	)
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		b, err := toJSON.Marshal(m)
		if err != nil {
			return fmt.Errorf("eventlog: event %s: %w", e.ID, err)
		}
		services = append(services, Service(e.Type))
		streams = append(streams, e.StreamID)
		versions = append(versions, e.Version)
		ids = append(ids, [16]byte(e.ID))
		schools = append(schools, e.SchoolID)
		types = append(types, e.Type)
		occurred = append(occurred, e.OccurredAt)
		recorded = append(recorded, e.RecordedAt)
		actors = append(actors, e.Actor)
		policies = append(policies, e.PolicyVersion)
		payloads = append(payloads, string(b))
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.events (service, stream_id, version, event_id, school_id, type,
		occurred_at, recorded_at, actor, policy_version, payload)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[],
			$7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::json[])
		ON CONFLICT DO NOTHING`, pgx.Identifier{schema}.Sanitize()),
		services, streams, versions, ids, schools, types, occurred, recorded, actors, policies, payloads)
	return err
}

// Record is one indexed event.
type Record struct {
	EventID       string
	SchoolID      string
	StreamID      string
	Version       int64
	Type          string // full protobuf name
	OccurredAt    time.Time
	RecordedAt    time.Time
	Actor         string
	PolicyVersion string
	Payload       string // JSON
}

// Position is an event's place in its stream.
type Position struct {
	StreamID string
	Version  int64
}

// Query selects the events of some streams of one school within a business-time window, or,
// with Positions, exactly those events (a report that chose them by the business dates in
// their payloads).
type Query struct {
	School    string
	Streams   []string
	Positions []Position
	// AnyStream lists the school's events of every stream (Streams is then ignored).
	AnyStream bool
	// Types keeps only events of these full types; empty: every type.
	Types []string
	From  time.Time // inclusive; zero: no bound
	To    time.Time // exclusive; zero: no bound
	Limit int
	After Cursor // the last row of the previous page; zero: from the start
}

// Cursor is a position in business-time order.
type Cursor struct {
	OccurredAt time.Time
	StreamID   string
	Version    int64
}

// Token encodes c for a client.
func (c Cursor) Token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.OccurredAt.UnixMicro(), 10) + "|" +
		strconv.FormatInt(c.Version, 10) + "|" + c.StreamID))
}

// ParseToken decodes a client's token; the empty token is the start.
func ParseToken(t string) (Cursor, bool) {
	if t == "" {
		return Cursor{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return Cursor{}, false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || parts[2] == "" {
		return Cursor{}, false
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	v, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, false
	}
	return Cursor{OccurredAt: time.UnixMicro(us), Version: v, StreamID: parts[2]}, true
}

// Reader lists indexed events from the live table.
type Reader struct{ Pool *pgxpool.Pool }

// List returns up to q.Limit events in business-time order, and the cursor of the next page
// (zero when there is none).
func (r Reader) List(ctx context.Context, q Query) ([]Record, Cursor, error) {
	var from, to, after *time.Time
	if !q.From.IsZero() {
		from = &q.From
	}
	if !q.To.IsZero() {
		to = &q.To
	}
	if q.After.StreamID != "" {
		after = &q.After.OccurredAt
	}
	streams, versions := q.Streams, []int64(nil)
	if q.Positions != nil {
		streams, versions = make([]string, len(q.Positions)), make([]int64, len(q.Positions))
		for i, p := range q.Positions {
			streams[i], versions[i] = p.StreamID, p.Version
		}
	}
	// Two statements rather than an OR, so that the usual one keeps its index plan.
	match := "stream_id = ANY($2)"
	if q.AnyStream {
		match = "(true OR $2::text[] IS NULL)" // every stream; $2 named only to keep the arguments' count
	}
	rows, err := r.Pool.Query(ctx, `SELECT event_id::text, school_id, stream_id, version, type, occurred_at, recorded_at,
			actor, policy_version, payload::text
		FROM eventlog.events
		WHERE school_id = $1 AND `+match+`
		  AND ($9::bigint[] IS NULL OR (stream_id, version) IN (SELECT * FROM unnest($2::text[], $9::bigint[])))
		  AND (coalesce(cardinality($10::text[]), 0) = 0 OR type = ANY($10))
		  AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)
		  AND ($5::timestamptz IS NULL OR (occurred_at, stream_id, version) > ($5, $6, $7))
		ORDER BY occurred_at, stream_id, version
		LIMIT $8`, q.School, streams, from, to, after, q.After.StreamID, q.After.Version, q.Limit+1, versions, q.Types)
	if err != nil {
		return nil, Cursor{}, err
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Record, error) {
		var x Record
		err := row.Scan(&x.EventID, &x.SchoolID, &x.StreamID, &x.Version, &x.Type, &x.OccurredAt, &x.RecordedAt,
			&x.Actor, &x.PolicyVersion, &x.Payload)
		return x, err
	})
	if err != nil || len(recs) <= q.Limit {
		return recs, Cursor{}, err
	}
	recs = recs[:q.Limit]
	last := recs[len(recs)-1]
	return recs, Cursor{OccurredAt: last.OccurredAt, StreamID: last.StreamID, Version: last.Version}, nil
}

// TypeNames are the Chinese names of event types, for people reading a drill-down.
var TypeNames = map[string]string{
	"SchoolRegistered":          "学校登记",
	"StaffAdded":                "新增教职工",
	"StaffLeft":                 "教职工离校",
	"AssetRegistered":           "资产登记入账",
	"AssetTransferred":          "校内调拨",
	"AssetLent":                 "借出",
	"AssetReturned":             "归还",
	"WriteOffRequested":         "报废申请",
	"WriteOffStepApproved":      "报废审批通过一步",
	"WriteOffRejected":          "报废驳回",
	"AssetWrittenOff":           "报废核销出账",
	"WriteOffDisposed":          "报废处置",
	"RepairReported":            "报修",
	"RepairDispatched":          "派工",
	"RepairStarted":             "开始维修",
	"RepairCompleted":           "维修完成",
	"RepairDeadlineBreached":    "维修超时",
	"RepairDelayReasonRecorded": "登记延期原因",
	"DamageCharged":             "损坏赔偿",
	"DamagePaymentRecorded":     "赔偿缴款",
	"DamageWaived":              "赔偿减免",
	"DamageSettled":             "赔偿结清",
	// Stocktakes.
	"StocktakeStarted":            "清查开始",
	"StocktakeRoomExpected":       "清查账面快照",
	"StocktakeItemScanned":        "清查扫码",
	"StocktakeRoomReconciled":     "房间盘点差异",
	"StocktakeClosed":             "清查结束",
	"StocktakeAdjustmentProposed": "盘盈盘亏调整申请",
	"StocktakeAdjustmentApproved": "盘盈盘亏调整批准",
	"AssetRemovedByStocktake":     "盘亏核销",
	// Procurement.
	"BudgetLineOpened":          "预算下达",
	"BudgetAdjustmentApproved":  "预算调整批准",
	"BudgetCommitted":           "预算占用",
	"BudgetCommitmentReleased":  "预算占用释放",
	"BudgetSpent":               "报账支出",
	"PurchaseRequestSubmitted":  "购物申请",
	"PurchaseRequestApproved":   "申请审批通过",
	"PurchaseRequestRejected":   "申请驳回",
	"QuoteAdded":                "询价",
	"QuoteChosen":               "选定报价",
	"PurchaseOrderPlaced":       "下单",
	"PurchaseOrderCancelled":    "订单取消",
	"PurchaseOrderAbandoned":    "下单未完成作废",
	"BudgetSpendReversed":       "报账红字冲销",
	"OrderCancellationRecorded": "订单取消登记",
	"InvoiceCancelled":          "发票作废",
	"InvoiceReversed":           "红字发票冲销",
	"AssetCategoryLearned":      "采购分类同步",
	"DeliveryRecorded":          "到货登记",
	"GoodsReceiptSigned":        "验收签字",
	"GoodsAccepted":             "验收入库",
	"InvoiceRecorded":           "发票登记",
	"InvoiceSigned":             "发票签字",
	"InvoiceReimbursed":         "报账",
	"StockReceived":             "入库",
	"StockIssued":               "出库",
	"StockReturned":             "退库",
	"StockAdjusted":             "盘盈盘亏调整",
	"FeeStandardPublished":      "收费公示",
	"FeeCollected":              "收费登记",
	"FeeSettled":                "代收费结算",
	"FeeSettlementApproved":     "结算审批",
	"FeeSettlementPublished":    "结算公示",
}

// TypeName returns the Chinese name of a full or short event type (the short type if unknown).
func TypeName(typ string) string {
	short := event.ShortType(typ)
	if n, ok := TypeNames[short]; ok {
		return n
	}
	return short
}
