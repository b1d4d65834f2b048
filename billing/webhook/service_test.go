package webhook

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// tenantHandle returns a fresh tenant's handle on its own SQLite database.
func tenantHandle(t *testing.T) *tenants.Handle {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))
	db, err := database.Open(t.Context(), testdb.SQLite(t), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(t.Context(), db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(t.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	return h
}

// TestServiceSetGetTest: a tenant without a webhook sees none and cannot test
// it; a refused address or a missing master key stores nothing; a saved
// webhook's secret is shown once (Get never returns it); a test delivery is a
// signed webhook.test event stamped by the service's clock, and a non-2xx answer
// is a result, not an error.
func TestServiceSetGetTest(t *testing.T) {
	t.Parallel()
	h := tenantHandle(t)
	ctx := t.Context()
	sealer, err := seal.New("test-master-key-0123456789abcdef")
	require.NoError(t, err)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	var mu sync.Mutex
	var got *http.Request
	var body []byte
	status := http.StatusNoContent
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(recv.Close)

	guarded := NewService(ServiceConfig{Sealer: sealer, Clock: clock})
	svc := NewService(ServiceConfig{Sealer: sealer, AllowPrivate: true, Clock: clock})

	_, ok, err := svc.Get(ctx, h)
	require.NoError(t, err)
	require.False(t, ok)
	_, err = svc.Test(ctx, h)
	require.ErrorIs(t, err, errkind.Conflict)
	require.Contains(t, err.Error(), "PUT /webhook")

	_, err = guarded.Set(ctx, h, recv.URL+"/hook")
	require.ErrorIs(t, err, ErrPrivateAddress)
	_, err = NewService(ServiceConfig{AllowPrivate: true}).Set(ctx, h, recv.URL+"/hook")
	require.ErrorIs(t, err, errkind.Unavailable)
	_, ok, err = svc.Get(ctx, h)
	require.NoError(t, err)
	require.False(t, ok, "a refused set stores nothing")

	w, err := svc.Set(ctx, h, "  "+recv.URL+"/hook ")
	require.NoError(t, err)
	require.Equal(t, recv.URL+"/hook", w.URL)
	require.True(t, strings.HasPrefix(w.Secret.Reveal(), "whsec_"))
	shown, ok, err := svc.Get(ctx, h)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, w.URL, shown.URL)
	require.Equal(t, w.ID, shown.ID)
	require.Empty(t, shown.Secret.Reveal())

	res, err := svc.Test(ctx, h)
	require.NoError(t, err)
	require.True(t, res.OK)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	require.Empty(t, res.Error)
	require.True(t, strings.HasPrefix(res.DeliveryID, "whd_test_"))
	mu.Lock()
	require.Equal(t, EventTest, got.Header.Get("X-Tollgate-Event"))
	require.Equal(t, res.DeliveryID, got.Header.Get("X-Tollgate-Delivery"))
	require.Equal(t, Sign(w.Secret.Reveal(), now, body), got.Header.Get(SignatureHeader))
	var payload testPayload
	require.NoError(t, json.Unmarshal(body, &payload))
	status = http.StatusInternalServerError
	mu.Unlock()
	require.Equal(t, testPayload{Type: EventTest, TenantID: string(h.TenantID()), ID: res.DeliveryID, CreatedAt: now,
		Message: payload.Message}, payload)

	res, err = svc.Test(ctx, h)
	require.NoError(t, err, "a failed delivery is a result")
	require.False(t, res.OK)
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	require.Contains(t, res.Error, "answered HTTP 500")

	// The guarded service refuses the loopback address at dial time too.
	res, err = guarded.Test(ctx, h)
	require.NoError(t, err)
	require.False(t, res.OK)
	require.Equal(t, 0, res.StatusCode)
	require.Equal(t, ErrPrivateAddress.Error(), res.Error)
}
