package pgserver

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// `houqin dev` passes a relative data folder (.houqin); pg_ctl runs in another directory, so
// the server must work from it all the same, and start again on the same folder.
func TestRelativeDirAndRestart(t *testing.T) {
	base, err := os.MkdirTemp("", "houqin-pgserver-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	t.Chdir(base)
	ctx := context.Background()
	for run := 0; run < 2; run++ {
		s, err := Start(ctx, Options{Dir: "data/postgres"})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if err := s.CreateDatabase(ctx, "houqin_test"); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, s.URL("houqin_test"))
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			_, err = conn.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`)
		} else {
			var v int
			err = conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v)
			if v != 42 {
				t.Errorf("second start lost the data: %d", v)
			}
		}
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("data/postgres/data/PG_VERSION"); err != nil {
		t.Fatalf("cluster not where it was asked to be: %v", err)
	}
}
