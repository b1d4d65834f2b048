package routing

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// UpstreamError is a failed provider call. A non-zero StatusCode means the
// upstream answered with that status and Body; the api layer may pass a 4xx
// through to the client unchanged (Body is always in OpenAI's error shape, as
// providers with another shape translate it). StatusCode 0 is a transport
// failure (connect error, timeout, broken stream) described by Cause.
type UpstreamError struct {
	// Provider is the registry name of the provider that failed.
	Provider string
	// Model is the upstream model id that was asked.
	Model string
	// StatusCode is the upstream's HTTP status; 0 for transport failures.
	StatusCode int
	// Body is the upstream's error body in OpenAI's {"error":{...}} shape.
	Body []byte
	// RetryAfter is the upstream's Retry-After hint; 0 when absent.
	RetryAfter time.Duration
	// Cause is the transport error when StatusCode is 0.
	Cause error
}

// Error describes the failure without the body, which may echo the prompt.
func (e *UpstreamError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("provider %s model %s: %v", e.Provider, e.Model, e.Cause)
	}
	return fmt.Sprintf("provider %s model %s: upstream status %d", e.Provider, e.Model, e.StatusCode)
}

// Unwrap exposes the error kind and the transport cause. 429 is RateLimited;
// other 4xx are Invalid (the client's request is at fault) except 401/403/404
// on the provider's side of the key, which are Unavailable because the
// gateway's credentials or catalog are wrong, not the client; 5xx and transport
// failures are Unavailable.
func (e *UpstreamError) Unwrap() []error {
	var kind error
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		kind = errkind.RateLimited
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusNotFound:
		kind = errkind.Unavailable
	case e.StatusCode >= 400 && e.StatusCode < 500:
		kind = errkind.Invalid
	default:
		kind = errkind.Unavailable
	}
	if e.Cause != nil {
		return []error{kind, e.Cause}
	}
	return []error{kind}
}

// Retryable reports whether trying again (same or another model) may succeed:
// 408, 409, 429, 5xx and transport failures. A client-side 4xx never is.
func (e *UpstreamError) Retryable() bool {
	switch {
	case e.StatusCode == 0:
		return !errors.Is(e.Cause, context.Canceled)
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusConflict, e.StatusCode == http.StatusTooManyRequests:
		return true
	default:
		return e.StatusCode >= 500
	}
}

// IsRetryable reports whether err is worth retrying: a retryable *UpstreamError,
// a network error or a deadline. Cancellation by the caller is never retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Retryable()
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// upstreamStatusError builds an UpstreamError from a non-2xx response.
func upstreamStatusError(provider, model string, resp *http.Response, body []byte) *UpstreamError {
	e := &UpstreamError{Provider: provider, Model: model, StatusCode: resp.StatusCode, Body: body}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return e
}

// transportError wraps a failure to reach the upstream or read its answer.
func transportError(provider, model string, err error) *UpstreamError {
	return &UpstreamError{Provider: provider, Model: model, Cause: err}
}
