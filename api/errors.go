package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
)

// errorBody is OpenAI's error envelope, used on /v1 and /api/v1 alike.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// CodeMalformedBody marks an Invalid error caused by an unparseable body (400, not 422).
const CodeMalformedBody = "malformed_body"

// HandlerFunc is a gin handler that returns its error instead of writing it, so that
// one place (writeError) chooses every status code.
type HandlerFunc func(c *gin.Context) error

// h adapts a HandlerFunc to gin.
func h(fn HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			writeError(c, err)
		}
	}
}

// statusOf maps an error to its HTTP status, OpenAI error type and code.
func statusOf(err error, openAIPath bool) (int, string, string) {
	code := ""
	var e *errkind.Error
	if errors.As(err, &e) {
		code = e.Code
	}
	switch errkind.Of(err) {
	case errkind.Invalid:
		if code == CodeMalformedBody || openAIPath {
			return http.StatusBadRequest, "invalid_request_error", orDefault(code, "invalid_request")
		}
		return http.StatusUnprocessableEntity, "invalid_request_error", orDefault(code, "validation_failed")
	case errkind.NotFound:
		if code == "model_not_found" {
			// OpenAI's own shape for an unknown model.
			return http.StatusNotFound, "invalid_request_error", code
		}
		return http.StatusNotFound, "not_found_error", orDefault(code, "not_found")
	case errkind.Conflict:
		return http.StatusConflict, "invalid_request_error", orDefault(code, "conflict")
	case errkind.Unauthenticated:
		return http.StatusUnauthorized, "authentication_error", orDefault(code, "invalid_api_key")
	case errkind.Forbidden:
		return http.StatusForbidden, "permission_error", orDefault(code, "forbidden")
	case errkind.BudgetExceeded:
		return http.StatusTooManyRequests, "insufficient_quota", "budget_exceeded"
	case errkind.RateLimited:
		return http.StatusTooManyRequests, "rate_limit_error", orDefault(code, "rate_limit_exceeded")
	case errkind.TooLarge:
		return http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large"
	case errkind.Unavailable:
		return http.StatusServiceUnavailable, "server_error", orDefault(code, "unavailable")
	}
	return http.StatusInternalServerError, "server_error", "internal_error"
}

func orDefault(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

// writeError renders err in the OpenAI envelope. Errors without a kind are logged
// with the request id and shown to the client only as a generic message.
func writeError(c *gin.Context, err error) {
	// An upstream's own error (a 400 for a bad tool schema, a 429) reaches the client
	// unchanged, as it would calling the provider directly.
	anthropicPath := isAnthropicPath(c.Request.URL.Path)
	// Every model tried failed: the explorer shows what was tried.
	c.Set(ctxFallbacks, routing.FallbacksJSON(routing.AttemptsOf(err)))
	var up *routing.UpstreamError
	if errors.As(err, &up) && up.StatusCode >= 400 && len(up.Body) > 0 {
		if up.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(up.RetryAfter.Seconds()))))
		}
		logger(c).InfoContext(c.Request.Context(), "upstream error passed through", "status", up.StatusCode, "provider", up.Provider)
		c.Set(ctxErrorType, "upstream_error")
		body := up.Body
		if anthropicPath {
			body = anthropicUpstreamError(up.StatusCode, up.Body)
		}
		c.Data(up.StatusCode, "application/json", body)
		c.Abort()
		return
	}
	if d := errkind.RetryAfterOf(err); d > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	openAIPath := strings.HasPrefix(c.Request.URL.Path, "/v1/")
	status, typ, code := statusOf(err, openAIPath)
	c.Set(ctxErrorType, typ)
	c.Set(ctxErrorCode, code)
	msg := errkind.PublicMessage(err)
	if status >= 500 || msg == "" {
		logger(c).ErrorContext(c.Request.Context(), "request failed", "error", err, "status", status)
		if status == http.StatusInternalServerError || msg == "" {
			msg = "internal error; quote request id " + logging.RequestID(c.Request.Context()) + " when reporting it"
		}
	}
	if errkind.Of(err) == errkind.BudgetExceeded {
		// A refusal by a hard budget stands until the budget or period changes:
		// the official SDKs would otherwise retry a 429 twice.
		c.Header("x-should-retry", "false")
	}
	if anthropicPath {
		if p := errkind.ParamOf(err); p != "" && !strings.Contains(msg, p) {
			msg = p + ": " + msg
		}
		c.AbortWithStatusJSON(status, anthropicError(status, errkind.Of(err) == errkind.BudgetExceeded, msg))
		return
	}
	var param *string
	if p := errkind.ParamOf(err); p != "" {
		param = &p
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Message: msg, Type: typ, Param: param, Code: &code}})
}
