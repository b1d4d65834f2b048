package stripe_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

const webhookSecret = "whsec_test_secret"

// eventPayload is a minimal Stripe event of type typ about object.
func eventPayload(typ, apiVersion, object string) []byte {
	return fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":%q,"created":1767225600,"type":%q,"data":{"object":%s}}`,
		apiVersion, typ, object)
}

const invoiceObject = `{"id":"in_123","object":"invoice","status":"paid","metadata":{"tenant_id":"01jtenant","period":"2026-01"}}`

func TestParseWebhook(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		payload   []byte
		secret    string // signing secret; webhookSecret when empty
		timestamp time.Time
		header    string // overrides the signed header when set
		want      stripe.InvoiceStatusUpdate
		wantErr   string
	}{
		{
			name:    "invoice.paid",
			payload: eventPayload("invoice.paid", "2023-10-16", invoiceObject),
			want: stripe.InvoiceStatusUpdate{Handled: true, EventID: "evt_1", EventType: "invoice.paid", Created: time.Unix(1767225600, 0).UTC(),
				InvoiceID: "in_123", Status: stripe.WebhookStatusPaid, TenantID: "01jtenant", Period: "2026-01"},
		},
		{
			name:    "invoice.payment_failed",
			payload: eventPayload("invoice.payment_failed", "2023-10-16", invoiceObject),
			want: stripe.InvoiceStatusUpdate{Handled: true, EventID: "evt_1", EventType: "invoice.payment_failed", Created: time.Unix(1767225600, 0).UTC(),
				InvoiceID: "in_123", Status: stripe.WebhookStatusPaymentFailed, TenantID: "01jtenant", Period: "2026-01"},
		},
		{
			name:    "invoice.voided from a newer API version",
			payload: eventPayload("invoice.voided", "2026-08-26.basil", invoiceObject),
			want: stripe.InvoiceStatusUpdate{Handled: true, EventID: "evt_1", EventType: "invoice.voided", Created: time.Unix(1767225600, 0).UTC(),
				InvoiceID: "in_123", Status: stripe.WebhookStatusVoided, TenantID: "01jtenant", Period: "2026-01"},
		},
		{
			name:    "invoice.finalized of an invoice made outside Tollgate",
			payload: eventPayload("invoice.finalized", "2023-10-16", `{"id":"in_9","object":"invoice"}`),
			want: stripe.InvoiceStatusUpdate{Handled: true, EventID: "evt_1", EventType: "invoice.finalized", Created: time.Unix(1767225600, 0).UTC(),
				InvoiceID: "in_9", Status: stripe.WebhookStatusFinalized},
		},
		{
			name:    "other event types are not handled",
			payload: eventPayload("customer.created", "2023-10-16", `{"id":"cus_1","object":"customer"}`),
			want:    stripe.InvoiceStatusUpdate{EventID: "evt_1", EventType: "customer.created", Created: time.Unix(1767225600, 0).UTC()},
		},
		{
			name:    "signed with another secret",
			payload: eventPayload("invoice.paid", "2023-10-16", invoiceObject),
			secret:  "whsec_other",
			wantErr: "verification failed",
		},
		{
			name:      "signature too old",
			payload:   eventPayload("invoice.paid", "2023-10-16", invoiceObject),
			timestamp: time.Now().Add(-time.Hour),
			wantErr:   "verification failed",
		},
		{
			name:    "missing header",
			payload: eventPayload("invoice.paid", "2023-10-16", invoiceObject),
			header:  "-",
			wantErr: "verification failed",
		},
		{
			name:    "invoice event about something else",
			payload: eventPayload("invoice.paid", "2023-10-16", `{"id":"cus_1","object":"customer"}`),
			wantErr: "bad invoice object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			secret := tt.secret
			if secret == "" {
				secret = webhookSecret
			}
			signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: tt.payload, Secret: secret, Timestamp: tt.timestamp})
			header := signed.Header
			if tt.header == "-" {
				header = ""
			}
			got, err := stripe.ParseWebhook(signed.Payload, header, webhookSecret)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, errkind.Invalid)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseWebhookTamperedBody(t *testing.T) {
	t.Parallel()

	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: eventPayload("invoice.paid", "2023-10-16", invoiceObject), Secret: webhookSecret})
	tampered := eventPayload("invoice.paid", "2023-10-16", `{"id":"in_other","object":"invoice"}`)
	_, err := stripe.ParseWebhook(tampered, signed.Header, webhookSecret)
	require.ErrorIs(t, err, errkind.Invalid)

	_, err = stripe.ParseWebhook(signed.Payload, signed.Header, "")
	require.ErrorIs(t, err, errkind.Invalid)
	require.ErrorContains(t, err, "STRIPE_WEBHOOK_SECRET")
}
