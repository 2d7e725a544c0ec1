package errs

import (
	"errors"
	"testing"
)

func TestJoin(t *testing.T) {
	if Join(nil, nil) != nil {
		t.Fatal("nothing joined must be nil")
	}
	j := Join(Invalid("a", "x"), nil, Invalid("b", "y"))
	inv, ok := As[*InvalidError](j)
	if !ok || len(inv.Violations) != 2 || inv.Violations[1].Field != "b" {
		t.Fatalf("joined %v", j)
	}
	other := errors.New("db down")
	if Join(Invalid("a", "x"), other) != other {
		t.Fatal("a non-validation error must win")
	}
}
