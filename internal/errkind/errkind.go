// Package errkind is Tollgate's small error vocabulary. Domain errors wrap one of
// these kinds and add context; the API layer maps kinds to HTTP status codes in one
// place, so no handler ever picks a status code itself.
package errkind

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind struct{ name string }

// String returns the kind's name.
func (k *Kind) String() string { return k.name }

// Error makes a Kind usable as a sentinel with errors.Is.
func (k *Kind) Error() string { return k.name }

// The kinds. Compare with errors.Is(err, errkind.NotFound).
var (
	// NotFound: the thing does not exist, or the caller may not know it exists.
	NotFound = &Kind{"not_found"}
	// Invalid: the input is wrong; the message says what to change.
	Invalid = &Kind{"invalid"}
	// Conflict: the input is fine but clashes with existing state (duplicate name).
	Conflict = &Kind{"conflict"}
	// Forbidden: the caller is known but may not do this.
	Forbidden = &Kind{"forbidden"}
	// Unauthenticated: the caller could not be identified.
	Unauthenticated = &Kind{"unauthenticated"}
	// BudgetExceeded: a hard budget refuses the request.
	BudgetExceeded = &Kind{"budget_exceeded"}
	// RateLimited: too many requests in a window; retry later.
	RateLimited = &Kind{"rate_limited"}
	// TooLarge: the request body is over the limit.
	TooLarge = &Kind{"too_large"}
	// Unavailable: a dependency (database, Redis, provider) cannot serve now.
	Unavailable = &Kind{"unavailable"}
)

// Error is an error of a kind with a public message and an optional hidden cause.
// The message is safe to show to the caller; the cause is only logged.
type Error struct {
	Kind    *Kind
	Message string
	// Code is an optional machine-readable code for the API ("budget_exceeded").
	Code string
	// Param optionally names the request field at fault ("max_tokens",
	// "messages[2].role"), shown as the OpenAI error's param.
	Param string
	// RetryAfter, when positive, tells the client when to try again: the API sends
	// it as the Retry-After header (whole seconds, rounded up).
	RetryAfter time.Duration
	Cause      error
}

// Error returns the public message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Is reports whether target is an *Error saying the same thing (kind, code, message,
// param), so a sentinel still matches a copy that only adds a Retry-After delay.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Cause == nil && e.Kind == t.Kind && e.Code == t.Code && e.Message == t.Message && e.Param == t.Param
}

// WithRetryAfter returns a copy of e that asks the client to retry after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// RetryAfterOf returns the Retry-After delay err carries, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	for errors.As(err, &e) {
		if e.RetryAfter > 0 {
			return e.RetryAfter
		}
		if e.Cause == nil {
			return 0
		}
		err = e.Cause
	}
	return 0
}

// Unwrap exposes both the kind and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// New returns an error of kind k with a public message.
func New(k *Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with a public message and a hidden cause.
func Wrap(k *Kind, cause error, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// Of returns the kind of err, or nil when err carries none.
func Of(err error) *Kind {
	for _, k := range []*Kind{NotFound, Invalid, Conflict, Forbidden, Unauthenticated, BudgetExceeded, RateLimited, TooLarge, Unavailable} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// PublicMessage returns the message safe to show for err: the Error's message when
// it has one, otherwise the kind's name, otherwise "".
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if k := Of(err); k != nil {
		return k.name
	}
	return ""
}

// InvalidParam returns an Invalid error about the request field param.
func InvalidParam(param, format string, args ...any) error {
	return &Error{Kind: Invalid, Param: param, Message: fmt.Sprintf(format, args...)}
}

// ParamOf returns the request field err names, or "".
func ParamOf(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.Param != "" {
			return e.Param
		}
		if e.Cause == nil {
			return ""
		}
		err = e.Cause
	}
	return ""
}

// JoinInvalid returns nil when errs is empty, otherwise one Invalid error whose message
// is what followed by every problem ("invalid API key: name is required; ..."), so a
// caller fixes them all in one round trip. Input Validate methods end with it.
func JoinInvalid(what string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	// The message already lists every problem; keeping them as a cause too would
	// make Error() repeat them.
	return New(Invalid, "%s: %s", what, strings.Join(msgs, "; "))
}
