package api

import (
	"encoding/json"
	"net/http"
	"strings"
)

// isAnthropicPath reports whether a path is served in Anthropic's shape, so
// its errors use Anthropic's envelope too.
func isAnthropicPath(path string) bool {
	return path == "/v1/messages" || strings.HasPrefix(path, "/v1/messages/")
}

// anthropicErrorBody is Anthropic's error envelope.
type anthropicErrorBody struct {
	Type  string              `json:"type"`
	Error anthropicErrorInner `json:"error"`
}

type anthropicErrorInner struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// anthropicErrorType is Anthropic's error type for an HTTP status. A budget
// refusal is a billing_error (still 429, with x-should-retry: false).
func anthropicErrorType(status int, budget bool) string {
	switch {
	case budget:
		return "billing_error"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusPaymentRequired:
		return "billing_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status == http.StatusServiceUnavailable || status == 529:
		return "overloaded_error"
	case status == http.StatusGatewayTimeout:
		return "timeout_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error"
}

func anthropicError(status int, budget bool, msg string) anthropicErrorBody {
	return anthropicErrorBody{Type: "error", Error: anthropicErrorInner{Type: anthropicErrorType(status, budget), Message: msg}}
}

// anthropicUpstreamError rewrites an upstream's OpenAI-shaped error body into
// Anthropic's envelope, keeping its message.
func anthropicUpstreamError(status int, body []byte) []byte {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := "upstream error"
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	}
	out, _ := json.Marshal(anthropicError(status, false, msg))
	return out
}
