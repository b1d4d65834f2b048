package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	logger := logging.New(logging.TestWriter{T: t}, "warn", "text")
	db, err := database.Open(ctx, testdb.SQLite(t), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	client, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: teststripe.TestURL(t, os.LookupEnv), MaxNetworkRetries: -1}, logger)
	require.NoError(t, err)
	svc := invoicing.NewService(reg, client, nil, logger)

	// Given a tenant with a finalized invoice for last month,
	tn, err := reg.Create(ctx, tenants.CreateInput{Name: "Acme"})
	require.NoError(t, err)
	hd, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	now := time.Now().UTC()
	last := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	_, err = ledger.Insert(ctx, hd, []ledger.Event{{TenantID: string(tn.ID), RequestID: "r1", CreatedAt: last, ModelUsed: "sim-large", Cost: 2_000_000_000, Status: ledger.StatusOK}})
	require.NoError(t, err)
	res, err := svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: last.Format("2006-01")})
	require.NoError(t, err)

	const secret = "whsec_test_endpoint"
	e := gin.New()
	NewStripeWebhook(svc, secret).Register(e)
	event := fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":"2023-10-16","created":%d,"type":"invoice.paid","data":{"object":{"id":%q,"object":"invoice","metadata":{"tenant_id":%q,"period":%q}}}}`,
		now.Unix(), res.Invoice.StripeInvoiceID, tn.ID, last.Format("2006-01"))
	post := func(sig string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/webhooks/stripe", strings.NewReader(string(event)))
		req.Header.Set("Stripe-Signature", sig)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		return w
	}
	status := func() invoicing.InvoiceStatus {
		inv, err := invoicing.Get(ctx, hd, last.Format("2006-01"))
		require.NoError(t, err)
		return inv.Status
	}

	// when the signature is wrong, it is refused with 400 in the API's error shape
	// and nothing changes;
	bad := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: "whsec_other", Timestamp: now})
	for _, sig := range []string{bad.Header, "", "t=1,v1=deadbeef"} {
		w := post(sig)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), `"error":{"message":"stripe webhook`)
		require.Contains(t, w.Body.String(), `"type":"invalid_request_error"`)
		require.Equal(t, invoicing.InvoiceStatusFinalized, status())
	}

	// when it is right, the invoice is paid.
	good := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: secret, Timestamp: now})
	w := post(good.Header)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.JSONEq(t, `{"received":true,"applied":true,"status":"paid"}`, w.Body.String())
	require.Equal(t, invoicing.InvoiceStatusPaid, status())
}
