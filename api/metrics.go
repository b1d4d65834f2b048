package api

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
)

// Metric families the serving process defines. The monitoring rules and dashboards
// in infra/monitoring may use only names from MetricNames; a test there checks.
const (
	// MetricHTTPRequests counts HTTP requests by route (the gin route pattern,
	// "unmatched" for 404s) and status code.
	MetricHTTPRequests = "tollgate_http_requests_total"
	// MetricHTTPDuration is the request duration histogram by route, in seconds,
	// to the last byte: a streamed completion counts its whole stream.
	MetricHTTPDuration = "tollgate_http_request_duration_seconds"
	// MetricUsageCost is the provider cost of completed requests by model, nano-USD.
	MetricUsageCost = "tollgate_usage_cost_nano_total"
	// MetricUsageTokens counts tokens of completed requests by model and kind
	// (input, cached — a part of input — and output).
	MetricUsageTokens = "tollgate_usage_tokens_total"
	// MetricRequestsCompleted counts requests that reached the ledger, by model and
	// ledger status (ok, aborted, error).
	MetricRequestsCompleted = "tollgate_requests_completed_total"
	// MetricMeterState is the budget meter's health: 0 ok, 1 degraded (Redis away,
	// serving from leases), 2 unavailable (requests refused).
	MetricMeterState = "tollgate_meter_state"
	// MetricLedgerPending is the number of usage events spooled but not yet inserted.
	MetricLedgerPending = "tollgate_ledger_pending_events"
	// MetricLedgerFlushFailures counts failed ledger batch inserts since start.
	MetricLedgerFlushFailures = "tollgate_ledger_flush_failures_total"
	// MetricMeterRecoveries counts tenants whose Redis counters this process
	// rebuilt after the store lost them (ledger, live reservations, leases): a
	// rebuild errs high until the next reconcile. Always 0 without Redis.
	MetricMeterRecoveries = "tollgate_meter_recoveries_total"
)

// MetricNames lists every tollgate_* metric family the serving process exports
// (above); the job worker's are worker.MetricNames. The metrics test scrapes a
// running server for both; infra's tests allow alert rules and dashboards no
// other name.
func MetricNames() []string {
	return []string{MetricHTTPRequests, MetricHTTPDuration, MetricUsageCost, MetricUsageTokens,
		MetricRequestsCompleted, MetricMeterState, MetricLedgerPending, MetricLedgerFlushFailures, MetricMeterRecoveries}
}

// routeUnmatched is the route label of requests no route matched, so that scans of
// random paths cannot grow the label set.
const routeUnmatched = "unmatched"

// httpDurationBuckets span a cached health check to a long streamed completion.
var httpDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// HTTPMetrics counts and times HTTP requests. Its middleware does one lock-free map
// lookup per request; label children are built once per route and status.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	children labelCache[httpKey, httpChildren]
}

type httpKey struct {
	route  string
	status int
}

type httpChildren struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewHTTPMetrics registers the HTTP collectors on reg (reusing ones already there,
// so two servers may share a registry).
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricHTTPRequests,
			Help: "HTTP requests by route pattern and status code."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricHTTPDuration,
			Help: "HTTP request duration to the last byte, by route pattern, in seconds.", Buckets: httpDurationBuckets},
			[]string{"route"}),
	}
	m.requests = registerOrReuse(reg, m.requests)
	m.duration = registerOrReuse(reg, m.duration)
	return m
}

// Middleware measures every request that passes through it. Use it on the engine
// before the routes it should measure are added.
func (m *HTTPMetrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.observe(c.FullPath(), c.Writer.Status(), time.Since(start))
	}
}

func (m *HTTPMetrics) observe(route string, status int, d time.Duration) {
	if route == "" {
		route = routeUnmatched
	}
	k := httpKey{route: route, status: status}
	ch, ok := m.children.load(k)
	if !ok {
		ch = m.children.store(k, httpChildren{
			requests: m.requests.WithLabelValues(route, strconv.Itoa(status)),
			duration: m.duration.WithLabelValues(route),
		})
	}
	ch.requests.Inc()
	ch.duration.Observe(d.Seconds())
}

// UsageMetrics turns completed requests' usage events into spend, token and
// completion counters by model.
type UsageMetrics struct {
	cost      *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	completed *prometheus.CounterVec
	children  labelCache[usageKey, usageChildren]
}

type usageKey struct {
	model  string
	status string
}

type usageChildren struct {
	cost, input, cached, output, completed prometheus.Counter
}

// NewUsageMetrics registers the usage collectors on reg (reusing ones already there).
func NewUsageMetrics(reg prometheus.Registerer) *UsageMetrics {
	m := &UsageMetrics{
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricUsageCost,
			Help: "Provider cost of completed requests by model, in nano-USD."}, []string{"model"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricUsageTokens,
			Help: "Tokens of completed requests by model and kind (input, cached as part of input, output)."}, []string{"model", "kind"}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRequestsCompleted,
			Help: "Requests whose usage reached the ledger spool, by model and status."}, []string{"model", "status"}),
	}
	m.cost = registerOrReuse(reg, m.cost)
	m.tokens = registerOrReuse(reg, m.tokens)
	m.completed = registerOrReuse(reg, m.completed)
	return m
}

// Observe counts one completed request. The float counters hold nano-USD exactly up
// to 2^53 (about 9 million USD) per process lifetime; Prometheus' rate() sees restarts.
func (m *UsageMetrics) Observe(e ledger.Event) {
	k := usageKey{model: e.ModelUsed, status: e.Status}
	ch, ok := m.children.load(k)
	if !ok {
		ch = m.children.store(k, usageChildren{
			cost:      m.cost.WithLabelValues(e.ModelUsed),
			input:     m.tokens.WithLabelValues(e.ModelUsed, "input"),
			cached:    m.tokens.WithLabelValues(e.ModelUsed, "cached"),
			output:    m.tokens.WithLabelValues(e.ModelUsed, "output"),
			completed: m.completed.WithLabelValues(e.ModelUsed, e.Status),
		})
	}
	ch.completed.Inc()
	if e.Cost > 0 {
		ch.cost.Add(float64(e.Cost))
	}
	if e.InputTokens > 0 {
		ch.input.Add(float64(e.InputTokens))
	}
	if e.CachedTokens > 0 {
		ch.cached.Add(float64(e.CachedTokens))
	}
	if e.OutputTokens > 0 {
		ch.output.Add(float64(e.OutputTokens))
	}
}

// labelCache maps a label tuple to its prepared metric children. A hit is a plain
// map lookup on an immutable map (no lock, no allocation); a miss copies the map
// under a lock, which happens once per tuple. Label sets here are small and bounded
// (routes, status codes, catalog models), so the copies stay cheap.
type labelCache[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

func (c *labelCache[K, V]) load(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// store adds v under k unless another goroutine got there first, and returns the
// value kept.
func (c *labelCache[K, V]) store(k K, v V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next map[K]V
	if old := c.m.Load(); old != nil {
		if have, ok := (*old)[k]; ok {
			return have
		}
		next = make(map[K]V, len(*old)+1)
		for ok, ov := range *old {
			next[ok] = ov
		}
	} else {
		next = make(map[K]V, 1)
	}
	next[k] = v
	c.m.Store(&next)
	return v
}

// registerOrReuse registers c, or returns the collector of the same name already
// registered (a second server on one registry shares the first one's).
func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// WatchAccounting registers on reg the meter's health and the ledger writer's
// counters, read at scrape time from Health and Stats: no polling goroutine,
// never stale. ctx carries the values of meter health checks (not their end).
func WatchAccounting(ctx context.Context, reg prometheus.Registerer, mt meter.Meter, w *ledger.Writer) {
	ctx = context.WithoutCancel(ctx)
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: MetricMeterState,
			Help: "Budget meter health: 0 ok, 1 degraded (serving from leases), 2 unavailable (refusing)."},
			func() float64 { return meterStateValue(meterHealth(ctx, mt).State) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: MetricLedgerPending,
			Help: "Usage events spooled but not yet inserted into tenant ledgers."},
			func() float64 { return float64(w.Stats().Pending) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: MetricLedgerFlushFailures,
			Help: "Failed ledger batch inserts since start (the events stay spooled and are retried)."},
			func() float64 { return float64(w.Stats().Failures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: MetricMeterRecoveries,
			Help: "Tenants whose lost Redis counters were rebuilt from the ledger, live reservations and leases (counts err high until the next reconcile)."},
			func() float64 {
				if r, ok := mt.(interface{ Recoveries() int64 }); ok {
					return float64(r.Recoveries())
				}
				return 0
			}),
	)
}

// meterHealth asks the meter with a short deadline: a scrape must not hang on Redis.
func meterHealth(ctx context.Context, mt meter.Meter) meter.Health {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return mt.Health(ctx)
}

// meterStateValue maps a health state to the gauge's value; an unknown state
// counts as unavailable so that it alerts.
func meterStateValue(s meter.HealthState) float64 {
	switch s {
	case meter.HealthStateOK:
		return 0
	case meter.HealthStateDegraded:
		return 1
	}
	return 2
}
