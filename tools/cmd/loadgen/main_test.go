package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestQuickShortensUnlessTold(t *testing.T) {
	_, cfg, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duration != 2*time.Second || cfg.Events != 20_000 || cfg.Rounds != 1 || cfg.LedgerSchools != 20 || cfg.LedgerAssets != 500 {
		t.Fatalf("quick: %v, %d events", cfg.Duration, cfg.Events)
	}
	_, cfg, err = parseFlags([]string{"-quick", "-events", "500", "-duration", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duration != 3*time.Second || cfg.Events != 500 {
		t.Fatalf("quick with explicit values: %v, %d events", cfg.Duration, cfg.Events)
	}
}

func TestDefaults(t *testing.T) {
	o, cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duration != 9*time.Second || cfg.Rounds != 3 || cfg.Events != 100_000 || !slices.Equal(cfg.Clients, []int{1, 16, 64}) ||
		o.out != "bench-results/latest.json" || len(cfg.Phases) != 0 || cfg.LedgerSchools != 100 || cfg.LedgerAssets != 3000 || cfg.LedgerQueries != 200 ||
		cfg.StocktakeItems != 5000 || cfg.StocktakeUncached != 1000 || cfg.StockIssues != 2000 || cfg.StockUncached != 300 {
		t.Fatalf("defaults: %+v %+v", o, cfg)
	}
}

func TestRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-clients", "1,x"}, {"-clients", "0"}, {"-only", "nope"}, {"-events", "0"}, {"-duration", "100ms"}, {"-rounds", "0"}, {"-duration", "2s", "-rounds", "3"},
		{"-ledger", "100"}, {"-ledger", "0x10"}, {"-ledger", "ax3"}, {"-ledger-queries", "0"}, {"-stocktake", "10"}, {"-stock", "5"}} {
		if _, _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
