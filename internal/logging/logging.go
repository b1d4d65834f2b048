// Package logging builds Tollgate's slog logger and copies request identity
// (request_id, tenant_id, job_id) from the context into every record, so a handler
// never has to remember to add them.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	tenantIDKey
	jobIDKey
)

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return &requestIDCtx{Context: ctx, id: id}
}

// requestIDCtx carries a request id in one allocation, where context.WithValue
// takes two (its layer and the boxed string): every request makes one. Its
// Value is a pointer to the id, which boxes without allocating.
type requestIDCtx struct {
	context.Context
	id string
}

func (c *requestIDCtx) Value(key any) any {
	if key == requestIDKey {
		return &c.id
	}
	return c.Context.Value(key)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if p, ok := ctx.Value(requestIDKey).(*string); ok {
		return *p
	}
	return ""
}

// WithTenantID returns ctx whose log records carry tenant_id.
func WithTenantID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, tenantIDKey, id)
}

// TenantIDKey is the key WithTenantID stores the tenant id under (a string),
// for a context type that answers it itself (tenants.WithLoggedPrincipal).
var TenantIDKey any = tenantIDKey

// WithJobID returns ctx whose log records carry job_id.
func WithJobID(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, jobIDKey, id)
}

// New returns a logger writing text or JSON at the given level, with the context
// handler around it.
func New(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(ContextHandler{Handler: h})
}

// Discard returns a logger that drops everything (benchmarks).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ContextHandler adds request_id, tenant_id and job_id from the record's context.
type ContextHandler struct{ slog.Handler }

// Handle adds the identity attributes and passes the record on.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if v := RequestID(ctx); v != "" {
		r.AddAttrs(slog.String("request_id", v))
	}
	if v, ok := ctx.Value(tenantIDKey).(string); ok && v != "" {
		r.AddAttrs(slog.String("tenant_id", v))
	}
	if v, ok := ctx.Value(jobIDKey).(int64); ok && v != 0 {
		r.AddAttrs(slog.Int64("job_id", v))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper when attributes are added.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper when a group is opened.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

// TestWriter adapts testing.T's Log to an io.Writer for slog in tests.
type TestWriter struct{ T interface{ Log(...any) } }

// Write logs one record.
func (w TestWriter) Write(p []byte) (int, error) {
	w.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
