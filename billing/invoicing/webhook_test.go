package invoicing_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

func TestApplyWebhook(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, testdb.SQLite(t))
	tn := seedTenant(t, b, "Acme", "")
	res, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
	require.NoError(t, err)
	const secret = "whsec_test"
	event := func(typ, tenantID string) stripe.InvoiceStatusUpdate {
		payload := fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":"2023-10-16","created":%d,"type":%q,"data":{"object":{"id":%q,"object":"invoice","metadata":{"tenant_id":%q,"period":%q}}}}`,
			time.Now().Unix(), typ, res.Invoice.StripeInvoiceID, tenantID, period)
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
		up, err := stripe.ParseWebhook(signed.Payload, signed.Header, secret)
		require.NoError(t, err)
		return up
	}
	status := func() invoicing.InvoiceStatus {
		inv, err := invoicing.Get(ctx, handleOf(t, b, tn), period)
		require.NoError(t, err)
		return inv.Status
	}

	steps := []struct {
		typ, tenant string
		applied     bool
		want        invoicing.InvoiceStatus
	}{
		{"invoice.payment_failed", string(tn.ID), true, invoicing.InvoiceStatusPaymentFailed},
		{"invoice.finalized", string(tn.ID), false, invoicing.InvoiceStatusPaymentFailed},
		{"invoice.paid", string(tn.ID), true, invoicing.InvoiceStatusPaid},
		{"invoice.voided", string(tn.ID), false, invoicing.InvoiceStatusPaid},
		{"invoice.paid", "", false, invoicing.InvoiceStatusPaid},
		{"invoice.paid", "01jzzzzzzzzzzzzzzzzzzzzzzz", false, invoicing.InvoiceStatusPaid},
	}
	for _, s := range steps {
		got, err := b.svc.ApplyWebhook(ctx, event(s.typ, s.tenant))
		require.NoError(t, err, s.typ)
		require.Equal(t, s.applied, got.Applied, "%s %s: %s", s.typ, s.tenant, got.Reason)
		require.Equal(t, s.want, status(), s.typ)
	}
}
