// Package errs holds the error vocabulary shared by every layer: broken business rules with a
// stable reason code, invalid input with one violation per field, missing things, and
// concurrency conflicts. It imports nothing from the outside world so domain packages can use it;
// the gRPC kit maps these errors to status codes in one place.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Reason is a stable, documented code for a broken business rule (e.g. ASSET_TAG_TAKEN).
// Clients match on it; it reaches them as google.rpc.ErrorInfo.reason. Never rename one.
type Reason string

// RuleError reports a command refused by a business rule (gRPC FailedPrecondition).
type RuleError struct {
	Reason  Reason
	Message string // Chinese first, English second
	// Metadata carries the facts behind the refusal (policy version, limits, ids).
	Metadata map[string]string
}

func (e *RuleError) Error() string { return string(e.Reason) + ": " + e.Message }

// Rule returns a RuleError. msg should read "中文 / English".
func Rule(reason Reason, msg string, kv ...string) error {
	e := &RuleError{Reason: reason, Message: msg}
	if len(kv) > 0 {
		e.Metadata = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Metadata[kv[i]] = kv[i+1]
		}
	}
	return e
}

// FieldViolation names one invalid request field by its proto field path (e.g. "unit_price_fen").
type FieldViolation struct {
	Field       string
	Description string
}

// InvalidError reports invalid input (gRPC InvalidArgument with BadRequest field violations).
type InvalidError struct {
	Violations []FieldViolation
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "invalid argument: " + strings.Join(parts, "; ")
}

// Violations collects field violations; Err returns nil when there are none.
type Violations []FieldViolation

// Add records a violation of field.
func (v *Violations) Add(field, description string) {
	*v = append(*v, FieldViolation{Field: field, Description: description})
}

// Addf records a violation with a formatted description.
func (v *Violations) Addf(field, format string, args ...any) {
	v.Add(field, fmt.Sprintf(format, args...))
}

// Err returns an *InvalidError, or nil when nothing was violated.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &InvalidError{Violations: v}
}

// Join merges the field violations of several errors into one *InvalidError, so a client
// learns every invalid field at once. Nil errors are skipped; an error that is not an
// *InvalidError wins as it is.
func Join(errors ...error) error {
	var all Violations
	for _, err := range errors {
		if err == nil {
			continue
		}
		inv, ok := As[*InvalidError](err)
		if !ok {
			return err
		}
		all = append(all, inv.Violations...)
	}
	return all.Err()
}

// Invalid is a shortcut for a single violation.
func Invalid(field, description string) error {
	return &InvalidError{Violations: []FieldViolation{{Field: field, Description: description}}}
}

// NotFoundError reports that something does not exist, or is not visible to the caller.
type NotFoundError struct {
	What string
	ID   string
}

func (e *NotFoundError) Error() string { return e.What + " " + e.ID + " not found" }

// NotFound returns a NotFoundError.
func NotFound(what, id string) error { return &NotFoundError{What: what, ID: id} }

// ErrConflict marks an optimistic-concurrency conflict: somebody else changed the same aggregate
// first (gRPC Aborted). Wrap it with context; test with errors.Is.
var ErrConflict = errors.New("concurrency conflict")

// ErrUnavailable marks a part that is shutting down or cannot be reached now: the caller may
// retry later (gRPC Unavailable).
var ErrUnavailable = errors.New("unavailable")

// As reports whether err is, or wraps, a *T and returns it.
func As[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
