package grpckit

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"houqin.dev/platform/errs"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of Houqin's reasons.
const ErrorDomain = "houqin.dev"

// ReasonConcurrentUpdate is the ErrorInfo reason of an Aborted command.
const ReasonConcurrentUpdate errs.Reason = "CONCURRENT_UPDATE"

// ToStatus maps an error of any layer to a gRPC status error, in one place:
//   - *errs.InvalidError → InvalidArgument with BadRequest field violations
//   - *errs.RuleError → FailedPrecondition with ErrorInfo{reason}
//   - errs.ErrConflict → Aborted (retry with fresh state)
//   - *errs.NotFoundError → NotFound
//   - context errors → Canceled / DeadlineExceeded
//   - anything else → Internal, logged, with no detail for the client
func ToStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if e, ok := errs.As[*errs.InvalidError](err); ok {
		br := &errdetails.BadRequest{}
		for _, v := range e.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		return withDetails(codes.InvalidArgument, "请求参数有误 / "+e.Error(), br)
	}
	if e, ok := errs.As[*errs.RuleError](err); ok {
		return withDetails(codes.FailedPrecondition, e.Message,
			&errdetails.ErrorInfo{Reason: string(e.Reason), Domain: ErrorDomain, Metadata: e.Metadata})
	}
	if errors.Is(err, errs.ErrConflict) {
		return withDetails(codes.Aborted, "数据已被他人修改，请刷新后重试 / changed by someone else first, reload and retry",
			&errdetails.ErrorInfo{Reason: string(ReasonConcurrentUpdate), Domain: ErrorDomain})
	}
	if errors.Is(err, errs.ErrUnavailable) {
		return status.Error(codes.Unavailable, "服务暂不可用，请稍后重试 / unavailable, retry later")
	}
	if e, ok := errs.As[*errs.NotFoundError](err); ok {
		return status.Error(codes.NotFound, "未找到 / not found: "+e.What+" "+e.ID)
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	log.ErrorContext(ctx, "internal error", "err", err)
	return status.Error(codes.Internal, "内部错误 / internal error")
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st, err := status.New(c, msg).WithDetails(details...)
	if err != nil {
		return status.Error(c, msg)
	}
	return st.Err()
}
