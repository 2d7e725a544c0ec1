package main

import (
	"context"

	"google.golang.org/grpc/metadata"
)

func authCtx(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
