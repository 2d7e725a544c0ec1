package holdings_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/holdings"
	"houqin.dev/platform/event"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func events(t *testing.T, school string, msgs ...proto.Message) []event.Event {
	t.Helper()
	var out []event.Event
	for i, m := range msgs {
		b, err := event.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, event.Event{ID: uuid.Must(uuid.NewV7()), SchoolID: school, Version: int64(i + 1),
			Type: event.TypeOf(m), Payload: b, RecordedAt: time.Now()})
	}
	return out
}

// A batch applied twice (a redelivery past every guard) counts once, and the readers see
// what a person holds (not a written-off asset) and what is overdue.
func TestApplyTwiceCountsOnce(t *testing.T) {
	ctx := context.Background()
	pool := testkit.Pool(t)
	if err := projection.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	p := holdings.Projection{}
	if err := projection.Setup(ctx, pool, p, "assets"); err != nil {
		t.Fatal(err)
	}
	a1, a2, a3, l1, l2, r1 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	batch := events(t, "s1",
		&eventsv1.AssetRegistered{AssetId: a1, Tag: "ZC-1", Name: "投影仪", Location: "教学楼301", Custodian: "李老师"},
		&eventsv1.AssetRegistered{AssetId: a2, Tag: "ZC-2", Name: "相机", Location: "总务处", Custodian: "总务处"},
		&eventsv1.AssetLent{AssetId: a2, LoanId: l1, Borrower: "李老师", LentOn: "2025-03-01", DueOn: "2025-03-05", Tag: "ZC-2", Name: "相机"},
		&eventsv1.AssetReturned{AssetId: a2, LoanId: l1, ReturnedOn: "2025-03-08"},
		&eventsv1.AssetLent{AssetId: a2, LoanId: l2, Borrower: "李老师", LentOn: "2025-03-09", DueOn: "2025-03-12", Tag: "ZC-2", Name: "相机"},
		&eventsv1.RequisitionIssued{RequisitionId: r1, IssuedTo: "李老师", Lines: []*eventsv1.LineQuantity{
			{Line: 1, Item: "粉笔", Quantity: 5, Total: 5}, {Line: 2, Item: "卷尺", Quantity: 2, Total: 2, Returnable: true}}},
		&eventsv1.IssuedItemsReturned{RequisitionId: r1, Lines: []*eventsv1.LineQuantity{{Line: 2, Quantity: 1, Total: 1}}},
		&eventsv1.AssetTransferred{AssetId: a1, ToLocation: "教学楼302", ToCustodian: "李老师"},
		&eventsv1.AssetRegistered{AssetId: a3, Tag: "ZC-3", Name: "旧电脑", Location: "教学楼302", Custodian: "李老师"},
		&eventsv1.AssetWrittenOff{AssetId: a3, WriteOffId: uuid.NewString()},
	)
	for range 2 {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return p.Apply(ctx, tx, p.Name(), batch) }); err != nil {
			t.Fatal(err)
		}
	}
	r := holdings.Reader{Pool: pool}
	held, err := r.PersonHeld(ctx, "s1", "李老师", "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int64{}
	for _, h := range held {
		kinds[h.Kind] += h.Quantity
	}
	if len(held) != 3 || kinds["custodian"] != 1 || kinds["loan"] != 1 || kinds["issued"] != 1 {
		t.Fatalf("held %v", held)
	}
	// As of 03-07 the first loan was out and overdue; as of 03-20 only the second.
	for asOf, want := range map[string]string{"2025-03-07": l1, "2025-03-20": l2} {
		d, _ := time.Parse("2006-01-02", asOf)
		loans, err := r.OverdueLoans(ctx, "s1", d)
		if err != nil || len(loans) != 1 || loans[0].LoanID != want {
			t.Fatalf("overdue as of %s: %v %v", asOf, loans, err)
		}
	}
	at, err := r.AssetsAt(ctx, "s1", "教学楼302")
	if err != nil || len(at) != 1 || at[0] != a1 {
		t.Fatalf("assets at 教学楼302: %v %v", at, err)
	}
}
