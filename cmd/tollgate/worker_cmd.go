package main

import (
	"github.com/spf13/cobra"
)

func newWorkerCmd(g *globalFlags) *cobra.Command {
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the background job worker (invoices, alerts, reconcile, backups) until SIGINT/SIGTERM",
		Long: "Runs a River job queue worker on the configured database. Any number of workers may run at once " +
			"against one Postgres database: each job runs on one of them at a time. Concurrency is the host tier's " +
			"TOLLGATE_WORKER_CONCURRENCY unless set.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			if metricsAddr == "" {
				metricsAddr = a.cfg.HTTP.MetricsAddr
			}
			if metricsAddr != "" {
				if _, err := serveWorkerMetrics(ctx, a, metricsAddr); err != nil {
					return err
				}
			}
			if _, err := a.registry.MigratePending(ctx, 4); err != nil {
				return err
			}
			m, closeMeter, err := workerMeter(a)
			if err != nil {
				return err
			}
			defer closeMeter()
			q, _, err := openQueue(ctx, a, max(1, a.cfg.Tier.WorkerConcurrency), true, m)
			if err != nil {
				return err
			}
			defer q.Close()
			if !billingOn(a.cfg) {
				a.logger.InfoContext(ctx, "billing is off (self-host mode or STRIPE_API_KEY unset): invoice runs will be no-ops")
			}
			return runQueue(ctx, a, q)
		},
	}
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "",
		"serve Prometheus /metrics and /healthz on this address (e.g. :9090); default TOLLGATE_METRICS_ADDR, empty: off")
	return cmd
}
