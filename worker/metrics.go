package worker

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/billing/meter"
)

// Metric families the worker exports.
const (
	// MetricReconcileDrift counts reconciles that found drift, by budget scope.
	MetricReconcileDrift = "tollgate_reconcile_drift_total"
	// MetricReconcileDriftNano is the drift the last reconcile with drift found, nano-USD.
	MetricReconcileDriftNano = "tollgate_reconcile_drift_nano"
	// MetricAlertDeliveries counts alert webhook deliveries by outcome.
	MetricAlertDeliveries = "tollgate_alert_deliveries_total"
	// MetricInvoiceRuns counts invoice runs by outcome.
	MetricInvoiceRuns = "tollgate_invoice_runs_total"
)

// MetricNames lists the worker's metric families.
func MetricNames() []string {
	return []string{MetricReconcileDrift, MetricReconcileDriftNano, MetricAlertDeliveries, MetricInvoiceRuns}
}

// metrics are the worker's Prometheus collectors.
type metrics struct {
	// drift counts reconciles that found a counter off the ledger, by scope.
	drift *prometheus.CounterVec
	// driftNano is the absolute drift found by the last reconcile, summed over
	// counters, by scope, in nano-USD.
	driftNano *prometheus.GaugeVec
	// alerts counts webhook deliveries by outcome (delivered, failed, refused).
	alerts *prometheus.CounterVec
	// invoices counts invoice runs by outcome (finalized, empty, billing_off, failed).
	invoices *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricReconcileDrift,
			Help: "Reconciles that found a meter counter different from the ledger, by scope."}, []string{"scope"}),
		driftNano: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: MetricReconcileDriftNano,
			Help: "Absolute drift (nano-USD) found by the last reconcile with drift, by scope."}, []string{"scope"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAlertDeliveries,
			Help: "Alert webhook deliveries by outcome."}, []string{"outcome"}),
		invoices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricInvoiceRuns,
			Help: "Invoice runs by outcome."}, []string{"outcome"}),
	}
	if reg == nil {
		return m
	}
	m.drift = register(reg, m.drift)
	m.driftNano = register(reg, m.driftNano)
	m.alerts = register(reg, m.alerts)
	m.invoices = register(reg, m.invoices)
	// Start the series alerts watch at zero: increase() cannot see a series' first
	// sample, so a counter created by its first failure would never alert.
	for _, scope := range []meter.Scope{meter.ScopeTenant, meter.ScopeKey, meter.ScopeMember} {
		m.drift.WithLabelValues(string(scope))
		m.driftNano.WithLabelValues(string(scope))
	}
	m.alerts.WithLabelValues("failed")
	m.invoices.WithLabelValues("failed")
	return m
}

// register registers c, or returns the collector already registered under its
// name (a second queue in one process shares the first one's).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
