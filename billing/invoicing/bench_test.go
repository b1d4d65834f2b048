package invoicing_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
)

// BenchmarkInvoiceRun1000Tenants invoices 1,000 tenants (two usage lines each)
// one after another against stripe-mock: customer, items, invoice and finalize
// per tenant, every call through the recorder. One op is the whole run of 1,000.
//
//	go test -run '^$' -bench InvoiceRun1000 -benchtime 3x ./billing/invoicing/
func BenchmarkInvoiceRun1000Tenants(b *testing.B) {
	const n = 1000
	bundle := setup(b, testdb.SQLite(b))
	tns := make([]tenants.Tenant, n)
	for i := range tns {
		tns[i] = seedTenant(b, bundle, fmt.Sprintf("Bench %04d", i), `{"markup_basis_points":2500}`)
	}
	ctx := b.Context()
	calls := 0
	b.ResetTimer()
	for b.Loop() {
		for _, tn := range tns {
			res, err := bundle.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
			require.NoError(b, err)
			require.Equal(b, invoicing.InvoiceStatusFinalized, res.Invoice.Status)
		}
		b.StopTimer()
		calls += len(bundle.rec.take())
		for _, tn := range tns {
			// Forget the invoices (and customers) so the next op runs them afresh.
			h := handleOf(b, bundle, tn)
			require.NoError(b, h.Tx(ctx, func(tx *gorm.DB) error { return tx.Exec("DELETE FROM invoices").Error }))
			require.NoError(b, bundle.registry.SetStripeCustomer(ctx, tn.ID, ""))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tenants/s")
	b.ReportMetric(float64(calls)/float64(b.N)/n, "stripe_calls/tenant")
}
