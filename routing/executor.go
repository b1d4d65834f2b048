package routing

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// FallbackReason says why the answering model is not the decision's first choice.
type FallbackReason string

// Fallback reasons.
const (
	// FallbackReasonNone: the decision's model answered.
	FallbackReasonNone FallbackReason = ""
	// FallbackReasonUpstreamError: an earlier model failed retryably (5xx, 429, connect error).
	FallbackReasonUpstreamError FallbackReason = "upstream_error"
	// FallbackReasonTimeout: an earlier model exceeded its provider timeout.
	FallbackReasonTimeout FallbackReason = "timeout"
	// FallbackReasonCircuitOpen: an earlier model's circuit breaker was open.
	FallbackReasonCircuitOpen FallbackReason = "circuit_open"
)

// errAttemptTimeout marks an attempt cancelled by the executor's own timeout,
// as opposed to the caller going away.
var errAttemptTimeout = errors.New("routing: provider attempt timed out")

// ExecutorConfig configures the Executor.
type ExecutorConfig struct {
	// Registry resolves a model's provider.
	Registry *Registry
	// Timeout bounds one non-streaming attempt, and a stream's time to its first
	// chunk; 0 means 60s. Timeouts overrides it per provider name.
	Timeout  time.Duration
	Timeouts map[string]time.Duration
	// MaxRetries is how often one model is retried on a retryable error before
	// falling back; 0 means 1, negative means no retries.
	MaxRetries int
	// BackoffBase and BackoffMax shape the exponential backoff with full jitter
	// between retries of one model; 0 means 100ms and 2s.
	BackoffBase, BackoffMax time.Duration
	// Breaker tunes the per provider/model circuit breakers.
	Breaker BreakerConfig
	// Now is the clock for the breakers; nil means time.Now.
	Now func() time.Time
}

// Executor calls providers for a Decision: retries with backoff on retryable
// errors only, falls back along the decision's list, and circuit-breaks per
// provider/model. It is safe for concurrent use.
type Executor struct {
	reg        *Registry
	timeout    time.Duration
	timeouts   map[string]time.Duration
	retries    int
	base, maxB time.Duration
	breakers   *breakerSet
	logger     *slog.Logger
}

// NewExecutor builds an Executor.
func NewExecutor(cfg ExecutorConfig, logger *slog.Logger) (*Executor, error) {
	if logger == nil {
		return nil, errors.New("routing: NewExecutor needs a logger")
	}
	if cfg.Registry == nil {
		return nil, errors.New("routing: NewExecutor needs a registry")
	}
	e := &Executor{reg: cfg.Registry, timeout: cfg.Timeout, timeouts: cfg.Timeouts, retries: cfg.MaxRetries,
		base: cfg.BackoffBase, maxB: cfg.BackoffMax, logger: logger.With("component", "routing.executor")}
	if e.timeout <= 0 {
		e.timeout = 60 * time.Second
	}
	if e.retries == 0 {
		e.retries = 1
	} else if e.retries < 0 {
		e.retries = 0
	}
	if e.base <= 0 {
		e.base = 100 * time.Millisecond
	}
	if e.maxB <= 0 {
		e.maxB = 2 * time.Second
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	e.breakers = newBreakerSet(cfg.Breaker, now)
	return e, nil
}

// Attempt records one try of one model.
type Attempt struct {
	// Model is the catalog id tried.
	Model string
	// Skipped is true when the circuit was open and no call went out.
	Skipped bool
	// Err is the failure; nil for the successful attempt.
	Err error
	// Duration is the attempt's wall time.
	Duration time.Duration
	// FirstByte is the time to the upstream's first byte: a stream's first
	// chunk, or a non-streaming answer's first response byte (its whole
	// Duration for providers that make no HTTP call).
	FirstByte time.Duration
}

// Failed is how a failed attempt ended: "circuit_open" (skipped), "timeout"
// or "upstream_error"; "" for the answering attempt.
func (a Attempt) Failed() FallbackReason {
	switch {
	case a.Skipped:
		return FallbackReasonCircuitOpen
	case a.Err == nil:
		return FallbackReasonNone
	case errors.Is(a.Err, errAttemptTimeout) || errors.Is(a.Err, context.DeadlineExceeded):
		return FallbackReasonTimeout
	}
	return FallbackReasonUpstreamError
}

// AttemptsError is an execution's failure with the attempts made before it
// gave up, so a refused request shows the fallbacks it tried. It unwraps to
// the failure itself, which errors.Is and errors.As see as before.
type AttemptsError struct {
	Attempts []Attempt
	Err      error
}

func (e *AttemptsError) Error() string { return e.Err.Error() }
func (e *AttemptsError) Unwrap() error { return e.Err }

// AttemptsOf returns the attempts a failed execution's error carries (nil
// when none).
func AttemptsOf(err error) []Attempt {
	var ae *AttemptsError
	if errors.As(err, &ae) {
		return ae.Attempts
	}
	return nil
}

func withAttempts(err error, attempts []Attempt) error {
	if len(attempts) == 0 {
		return err
	}
	return &AttemptsError{Attempts: attempts, Err: err}
}

// fallbackAttempt is one failed attempt as the ledger keeps it.
type fallbackAttempt struct {
	Model   string `json:"model"`
	Outcome string `json:"outcome"`
	MS      int64  `json:"ms"`
}

// FallbacksJSON encodes failed attempts for the ledger
// ([{"model","outcome","ms"}]; "" when there are none).
func FallbacksJSON(failed []Attempt) string {
	if len(failed) == 0 {
		return ""
	}
	out := make([]fallbackAttempt, len(failed))
	for i, a := range failed {
		out[i] = fallbackAttempt{Model: a.Model, Outcome: string(a.Failed()), MS: a.Duration.Milliseconds()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return ""
	}
	return string(b)
}

// Outcome is what every execution reports besides the answer.
type Outcome struct {
	// Model is the catalog model that answered.
	Model Model
	// FallbackReason is why Model is not the decision's first choice.
	FallbackReason FallbackReason
	// Attempts lists every try in order, the successful one last.
	Attempts []Attempt
}

// ChatResult is a completed non-streaming execution.
type ChatResult struct {
	Outcome
	// Response is the provider's answer.
	Response *ChatResponse
	// attempts backs Outcome.Attempts for the usual single attempt.
	attempts [1]Attempt
}

// StreamResult is an opened streaming execution; the caller pumps and Closes Stream.
type StreamResult struct {
	Outcome
	// Stream is open and primed: its first chunk already arrived.
	Stream *Stream
}

// BreakerState reports the circuit state of a model (for metrics and tests).
func (e *Executor) BreakerState(m Model) BreakerState { return e.breakers.state(breakerKey(m)) }

// breakerID names a model's breaker: a struct, not a joined string, so finding
// it costs no allocation per attempt.
type breakerID struct{ provider, model string }

func breakerKey(m Model) breakerID { return breakerID{m.Provider, m.ID} }

func (e *Executor) timeoutFor(provider string) time.Duration {
	if t, ok := e.timeouts[provider]; ok && t > 0 {
		return t
	}
	return e.timeout
}

// backoff is exponential with full jitter, honouring an upstream Retry-After.
func (e *Executor) backoff(retry int, err error) time.Duration {
	d := min(e.base<<retry, e.maxB)
	d = rand.N(d) + 1
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.RetryAfter > 0 {
		d = min(ue.RetryAfter, e.maxB)
	}
	return d
}

// Chat executes a non-streaming request along d. A non-retryable upstream
// error (a 400) is returned at once, unchanged, so the api layer can pass it
// through; when every candidate fails the last error is returned.
func (e *Executor) Chat(ctx context.Context, d Decision, req *ChatRequest) (*ChatResult, error) {
	res := &ChatResult{}
	res.Attempts = res.attempts[:0]
	err := e.run(ctx, d, &res.Outcome, func(actx context.Context, _ context.CancelCauseFunc, p Provider, m Model) error {
		resp, err := p.Chat(actx, req, m.Upstream())
		res.Response = resp
		return err
	}, false)
	if err != nil {
		return nil, withAttempts(err, res.Outcome.Attempts)
	}
	return res, nil
}

// ChatStream opens a stream along d. Retries and fallbacks happen only until
// the stream's first chunk arrived (the stream is primed before it is
// returned); once the caller starts pumping, nothing is retried, because the
// client has seen output.
func (e *Executor) ChatStream(ctx context.Context, d Decision, req *ChatRequest) (*StreamResult, error) {
	res := &StreamResult{}
	err := e.run(ctx, d, &res.Outcome, func(actx context.Context, cancel context.CancelCauseFunc, p Provider, m Model) error {
		s, err := p.ChatStream(actx, req, m.Upstream())
		if err != nil {
			return err
		}
		if err := s.prime(); err != nil {
			s.Close()
			return err
		}
		s.onClose = func() { cancel(nil) }
		res.Stream = s
		return nil
	}, true)
	if err != nil {
		return nil, withAttempts(err, res.Outcome.Attempts)
	}
	return res, nil
}

func (e *Executor) run(ctx context.Context, d Decision, out *Outcome, call attemptFunc, stream bool) error {
	if d.Action == DecisionActionRefuse {
		return errkind.New(errkind.Forbidden, "%s", d.Explanation)
	}
	if d.Model.ID == "" {
		return errkind.New(errkind.Invalid, "routing: decision has no model")
	}
	candidates := append([]Model{d.Model}, d.Fallbacks...)
	var lastErr error
	reason := FallbackReasonNone
	for _, m := range candidates {
		p, ok := e.reg.Provider(m.Provider)
		if !ok {
			lastErr = errkind.New(errkind.Unavailable, "provider %q of model %s is not configured", m.Provider, m.ID)
			continue
		}
		key := breakerKey(m)
		for try := 0; try <= e.retries; try++ {
			if !e.breakers.allow(key) {
				out.Attempts = append(out.Attempts, Attempt{Model: m.ID, Skipped: true})
				if reason == FallbackReasonNone {
					reason = FallbackReasonCircuitOpen
				}
				if lastErr == nil {
					lastErr = errkind.New(errkind.Unavailable, "model %s is temporarily unavailable (circuit open)", m.ID)
				}
				break
			}
			start := time.Now()
			timedOut, firstByte, err := e.attempt(ctx, p, m, call, stream)
			took := time.Since(start)
			if firstByte <= 0 || stream {
				firstByte = took // a primed stream returns at its first chunk
			}
			out.Attempts = append(out.Attempts, Attempt{Model: m.ID, Err: err, Duration: took, FirstByte: firstByte})
			if err == nil {
				e.breakers.success(key)
				out.Model, out.FallbackReason = m, reason
				return nil
			}
			if ctx.Err() != nil {
				e.breakers.release(key)
				return err // the caller left: neither retry nor blame the provider
			}
			if !timedOut && !IsRetryable(err) {
				e.breakers.success(key) // the upstream is healthy; the request was bad
				return err
			}
			lastErr = err
			if reason == FallbackReasonNone {
				reason = FallbackReasonUpstreamError
				if timedOut {
					reason = FallbackReasonTimeout
				}
			}
			e.logger.WarnContext(ctx, "provider attempt failed", "model", m.ID, "provider", m.Provider, "try", try, "error", err)
			if e.breakers.failure(key) || try == e.retries {
				break
			}
			if err := sleepCtx(ctx, e.backoff(try, err)); err != nil {
				return lastErr
			}
		}
	}
	return lastErr
}

// attemptFunc makes one provider call under actx; cancel ends actx early.
type attemptFunc func(actx context.Context, cancel context.CancelCauseFunc, p Provider, m Model) error

// attempt runs one call under the provider's timeout. For streams the timeout
// covers only the time to the first chunk.
func (e *Executor) attempt(ctx context.Context, p Provider, m Model, call attemptFunc, stream bool) (bool, time.Duration, error) {
	actx, cancel := context.WithCancelCause(ctx)
	var fb *firstByteTrace
	if !stream {
		// The answer's first byte, not its end: the explorer's latency split.
		fb = &firstByteTrace{start: time.Now()}
		fb.trace.GotFirstResponseByte = fb.got
		actx = httptrace.WithClientTrace(actx, &fb.trace)
	}
	timer := time.AfterFunc(e.timeoutFor(m.Provider), func() { cancel(errAttemptTimeout) })
	err := call(actx, cancel, p, m)
	stopped := timer.Stop()
	timedOut := !stopped && errors.Is(context.Cause(actx), errAttemptTimeout)
	if err != nil || !stream {
		cancel(nil)
	}
	// A successful stream keeps actx alive until Stream.Close. If the timeout
	// fired in the instant the stream was primed, the stream is already dead.
	if stream && timedOut && err == nil {
		err = transportError(m.Provider, m.Upstream(), errAttemptTimeout)
	}
	var firstByte time.Duration
	if fb != nil {
		firstByte = time.Duration(fb.firstByte.Load())
	}
	return timedOut && err != nil, firstByte, err
}

// firstByteTrace times an attempt's first response byte: one allocation for
// the trace, its hook and the result. The hook runs on the transport's
// goroutine, hence the atomic.
type firstByteTrace struct {
	trace     httptrace.ClientTrace
	start     time.Time
	firstByte atomic.Int64
}

func (t *firstByteTrace) got() { t.firstByte.Store(int64(time.Since(t.start))) }
