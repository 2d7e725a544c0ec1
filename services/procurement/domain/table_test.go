package domain

import (
	"fmt"
	"testing"
)

// A table is never changed by With: every earlier version keeps what it held.
func TestTableVersionsStayApart(t *testing.T) {
	var versions []Table[int]
	var tab Table[int]
	for i := range 200 {
		tab = tab.With(fmt.Sprint("k", i%150), i) // the last 50 overwrite
		versions = append(versions, tab)
	}
	for i, v := range versions {
		want := min(i+1, 150)
		if v.Len() != want {
			t.Fatalf("version %d has %d keys, want %d", i, v.Len(), want)
		}
		for j := 0; j <= i; j++ {
			k := fmt.Sprint("k", j%150)
			got, ok := v.Get(k)
			// The value of k in version i is the last write at or before i.
			last := j
			for w := j; w <= i; w += 150 {
				last = w
			}
			if !ok || got != last {
				t.Fatalf("version %d: %s = %d %v, want %d", i, k, got, ok, last)
			}
		}
		if v.Has("absent") {
			t.Fatal("absent key present")
		}
	}
}
