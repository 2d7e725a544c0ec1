package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorReplies(t *testing.T) {
	withDetails := func(c codes.Code, msg string, d ...any) error {
		st := status.New(c, msg)
		for _, x := range d {
			switch v := x.(type) {
			case *errdetails.ErrorInfo:
				st, _ = st.WithDetails(v)
			case *errdetails.BadRequest:
				st, _ = st.WithDetails(v)
			}
		}
		return st.Err()
	}
	cases := []struct {
		err    error
		http   int
		code   string
		reason string
		fields int
	}{
		{withDetails(codes.InvalidArgument, "bad", &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "tag", Description: "必填"}}}), 400, "INVALID_ARGUMENT", "", 1},
		{withDetails(codes.FailedPrecondition, "taken", &errdetails.ErrorInfo{Reason: "ASSET_TAG_TAKEN"}), 422, "FAILED_PRECONDITION", "ASSET_TAG_TAKEN", 0},
		{status.Error(codes.Unauthenticated, "no token"), 401, "UNAUTHENTICATED", "", 0},
		{withDetails(codes.PermissionDenied, "other school", &errdetails.ErrorInfo{Reason: "OTHER_SCHOOL"}), 403, "PERMISSION_DENIED", "OTHER_SCHOOL", 0},
		{status.Error(codes.NotFound, "nope"), 404, "NOT_FOUND", "", 0},
		{withDetails(codes.Aborted, "raced", &errdetails.ErrorInfo{Reason: "CONCURRENT_UPDATE"}), 409, "ABORTED", "CONCURRENT_UPDATE", 0},
		{status.Error(codes.Unavailable, "down"), 503, "UNAVAILABLE", "", 0},
		{status.Error(codes.Internal, "oops"), 500, "INTERNAL", "", 0},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		writeError(w, c.err)
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != c.http || body.Error.Code != c.code || body.Error.Reason != c.reason || len(body.Error.FieldViolations) != c.fields {
			t.Errorf("%v: HTTP %d %+v", c.err, w.Code, body.Error)
		}
	}
}
