package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
)

// HeaderRequestID is the response header carrying the request id Tollgate
// generated: the id usage is billed under.
const HeaderRequestID = "x-tollgate-request-id"

// HeaderClientRequestID is the client's own request id: read from the request,
// stored beside the usage and echoed on the response, never used as a key.
const HeaderClientRequestID = "x-request-id"

// maxClientRequestID bounds the client request id that is stored and echoed.
const maxClientRequestID = 128

const (
	loggerKey          = "tollgate.logger"
	clientRequestIDKey = "tollgate.client_request_id"
)

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return slog.New(slog.DiscardHandler)
}

// requestID assigns every request a new id and puts it in the context, the
// response header and every log record. It is the meter's reservation id and the
// ledger's idempotency key, so it never comes from the client: a client's
// X-Request-Id (when printable and at most maxClientRequestID bytes) is kept
// beside it and echoed back.
func requestID(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := ledger.NewRequestID(time.Now())
		if cid := c.GetHeader(canonClientRequestID); validClientRequestID(cid) {
			c.Set(clientRequestIDKey, cid)
			c.Header(canonClientRequestID, cid)
		}
		c.Header(canonRequestID, id)
		c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
		c.Set(loggerKey, base)
		c.Next()
	}
}

// validClientRequestID accepts 1..maxClientRequestID printable ASCII bytes.
func validClientRequestID(id string) bool {
	if id == "" || len(id) > maxClientRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// clientRequestID returns the client's X-Request-Id that requestID accepted, or "".
func clientRequestID(c *gin.Context) string {
	return c.GetString(clientRequestIDKey)
}

// recovery turns a panic into a 500 in the API's error shape and logs the stack.
func recovery() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		logger(c).ErrorContext(c.Request.Context(), "panic", "panic", rec)
		writeError(c, errors.New("panic"))
	})
}

// hotPath reports whether a route is one of the inference endpoints.
func hotPath(route string) bool {
	switch route {
	case "/v1/chat/completions", "/v1/responses", "/v1/messages":
		return true
	}
	return false
}

// accessLog logs one line per request. The hot /v1 path logs at debug unless it failed.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		logAccess(c, start)
	}
}

// logAccess writes accessLog's line for a request that started at start. It
// is apart from the middleware so that the line's attributes take no room in
// the middleware's frame, which stays on the stack while a stream is relayed.
func logAccess(c *gin.Context, start time.Time) {
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	} else if hotPath(c.FullPath()) && status < 400 {
		level = slog.LevelDebug
	}
	ctx := c.Request.Context()
	l := logger(c)
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("path", c.FullPath()),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("ip", c.ClientIP()),
	}
	if cid := clientRequestID(c); cid != "" {
		attrs = append(attrs, slog.String("client_request_id", cid))
	}
	l.LogAttrs(ctx, level, "http request", attrs...)
}

// bodyLimit refuses bodies over max bytes with 413, before any handler reads them.
func bodyLimit(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			writeError(c, errkind.New(errkind.TooLarge, "request body is %d bytes; the limit is %d", c.Request.ContentLength, max))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// bindJSON decodes the body into dst, turning a too-large body into 413 and
// malformed JSON into 400, each with a message saying what to fix.
func bindJSON(c *gin.Context, dst any) error {
	if err := c.ShouldBindJSON(dst); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return errkind.New(errkind.TooLarge, "request body is over the %s-byte limit", strconv.FormatInt(maxErr.Limit, 10))
		}
		return &errkind.Error{Kind: errkind.Invalid, Code: CodeMalformedBody, Message: "request body is not valid JSON for this endpoint: " + err.Error()}
	}
	return refuseNULInBody(dst)
}
