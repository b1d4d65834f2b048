package worker

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

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
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_reconcile_drift_total",
			Help: "Reconciles that found a meter counter different from the ledger, by scope."}, []string{"scope"}),
		driftNano: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tollgate_reconcile_drift_nano",
			Help: "Absolute drift (nano-USD) found by the last reconcile with drift, by scope."}, []string{"scope"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_alert_deliveries_total",
			Help: "Alert webhook deliveries by outcome."}, []string{"outcome"}),
		invoices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tollgate_invoice_runs_total",
			Help: "Invoice runs by outcome."}, []string{"outcome"}),
	}
	if reg == nil {
		return m
	}
	m.drift = register(reg, m.drift)
	m.driftNano = register(reg, m.driftNano)
	m.alerts = register(reg, m.alerts)
	m.invoices = register(reg, m.invoices)
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
