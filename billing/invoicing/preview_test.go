package invoicing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// TestPreviewAgreesWithRun: the preview of a month and the invoice a run stores
// for it are the same lines, amounts and rounding.
func TestPreviewAgreesWithRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, testdb.SQLite(t))
	tn := seedTenant(t, b, "Initech", `{"markup_basis_points":1250,"platform_fee_nano":49000000000,
		"model_prices":{"sim-small":{"input_per_million_nano":150000000,"output_per_million_nano":600000000}}}`)

	// Given the preview of January, read before the run,
	pre, err := b.svc.Preview(ctx, invoicing.PreviewInput{TenantID: tn.ID, Period: period})
	require.NoError(t, err)
	require.True(t, pre.Final)
	require.Equal(t, int64(1250), pre.Plan.MarkupBasisPoints)
	require.Len(t, pre.Invoice.Lines, 3)
	require.Empty(t, b.rec.take(), "a preview calls nothing")

	// when January's invoice runs,
	_, err = b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
	require.NoError(t, err)
	stored, err := invoicing.Get(ctx, handleOf(t, b, tn), period)
	require.NoError(t, err)

	// then the stored invoice has the preview's lines and totals.
	require.Equal(t, pre.Invoice.AmountCents, stored.AmountCents)
	require.Equal(t, pre.Invoice.Charge, stored.Charge)
	require.Equal(t, pre.Invoice.Cost, stored.Cost)
	require.Equal(t, pre.Invoice.Rounding, stored.Rounding)
	require.Len(t, stored.Lines, len(pre.Invoice.Lines))
	for i, l := range stored.Lines {
		l.StripeItemID = ""
		require.Equal(t, pre.Invoice.Lines[i], l)
	}
}
