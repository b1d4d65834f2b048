package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

func TestWebhookRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, owner := b.member(a, access.RoleOwner)
	_, viewer := b.member(a, access.RoleViewer)
	f := &fixture{env: b.testEnv, tokens: map[string]string{"owner": owner, "viewer": viewer}, vars: map[string]string{"A": string(a.ID)}}
	put := func(name, url string, status int, want ...string) apiScenario {
		return apiScenario{Name: name, Caller: "owner", Method: "PUT", Path: "/api/v1/tenants/{A}/webhook", Body: map[string]string{"url": url},
			WantStatus: status, WantBody: want}
	}
	f.run(t, []apiScenario{
		{Name: "none yet", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/{A}/webhook", WantStatus: 200, WantBody: []string{`"url":""`, `"configured":false`}},
		{Name: "test without a webhook", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/webhook/test", WantStatus: 409, WantBody: []string{"no_webhook"}},
		put("loopback", "http://127.0.0.1:9/hook", 422, "TOLLGATE_WEBHOOK_ALLOW_PRIVATE"),
		put("private v4", "https://10.1.2.3/hook", 422, "private"),
		put("link-local metadata", "http://169.254.169.254/latest", 422, "private"),
		put("v6 loopback", "http://[::1]/hook", 422, "private"),
		put("localhost", "http://localhost:8080/hook", 422, "private"),
		put("localhost with a trailing dot", "http://localhost.:8080/hook", 422, "private"),
		put("internal name with a trailing dot", "https://metadata.google.internal./computeMetadata/v1/", 422, "private"),
		put("loopback literal with a trailing dot", "http://127.0.0.1./hook", 422, "private"),
		put("NAT64 of loopback", "http://[64:ff9b::7f00:1]/hook", 422, "private"),
		put("6to4 of metadata", "http://[2002:a9fe:a9fe::1]/hook", 422, "private"),
		put("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/hook", 422, "private"),
		put("benchmarking", "http://198.18.0.1/hook", 422, "private"),
		put("reserved", "http://240.0.0.1/hook", 422, "private"),
		put("ftp", "ftp://hooks.example.com/x", 422, "http:// or https://"),
		put("credentials in the URL", "https://user:pw@hooks.example.com/x", 422, "credentials"),
		put("empty", "", 422, "url is required"),
		{Name: "viewer may not read", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/webhook", WantStatus: 403},
		{Name: "viewer may not set", Caller: "viewer", Method: "PUT", Path: "/api/v1/tenants/{A}/webhook", Body: `{"url":"https://203.0.113.7/x"}`, WantStatus: 403},
		// A public address literal is accepted (no DNS needed); the secret is shown once.
		put("public", "https://203.0.113.7/hook", 200, `"secret":"whsec_`, `"configured":true`),
		{Name: "secret not shown again", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/{A}/webhook", WantStatus: 200,
			WantBody: []string{`"url":"https://203.0.113.7/hook"`}, DenyBody: []string{"whsec_"}},
	})
}

func TestWebhookTestSendIsSigned(t *testing.T) {
	t.Parallel()
	// Given a receiver on loopback, which the operator allowed.
	var mu sync.Mutex
	var got *http.Request
	var gotBody []byte
	status := http.StatusNoContent
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got, gotBody = r, nil
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(recv.Close)
	b := newAdminEnv(t, "sqlite", adminOptions{webhooks: webhook.ServiceConfig{AllowPrivate: true}})
	a := b.tenant("acme")
	_, billing := b.member(a, access.RoleBilling)
	base := "/api/v1/tenants/" + string(a.ID)

	res := b.do("PUT", base+"/webhook", billing, map[string]string{"url": recv.URL + "/hook"})
	require.Equal(t, 200, res.Status, res.Body)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	secret := decode[webhookDTO](t, res).Secret
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	// The secret is stored sealed, not in clear.
	var stored string
	require.NoError(t, b.handle(a).Read(t.Context(), func(db *gorm.DB) error { return db.Raw("SELECT secret_enc FROM webhooks").Scan(&stored).Error }))
	require.NotContains(t, stored, secret)

	// When the test is sent, the receiver gets a signed webhook.test event.
	res = b.do("POST", base+"/webhook/test", billing, nil)
	require.Equal(t, 200, res.Status, res.Body)
	out := decode[webhookTestDTO](t, res)
	require.True(t, out.OK, res.Body)
	require.Equal(t, 204, out.StatusCode)
	mu.Lock()
	require.Equal(t, "/hook", got.URL.Path)
	require.Equal(t, "webhook.test", got.Header.Get("X-Tollgate-Event"))
	sig := got.Header.Get(webhook.SignatureHeader)
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	require.Contains(t, string(gotBody), `"type":"webhook.test"`)
	require.Contains(t, string(gotBody), string(a.ID))
	mu.Unlock()
	require.NotEmpty(t, ts)
	require.Equal(t, sig, webhook.Sign(secret, unixTime(t, ts), gotBody), "the signature verifies with the secret shown once")

	// A failing endpoint is reported, not turned into an API error.
	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	out = decode[webhookTestDTO](t, b.do("POST", base+"/webhook/test", billing, nil))
	require.False(t, out.OK)
	require.Equal(t, 500, out.StatusCode)
	require.Contains(t, out.Error, "HTTP 500")
}

func TestWebhookTestSendRefusesPrivateAtDial(t *testing.T) {
	t.Parallel()
	// The URL was accepted while allowed (or DNS changed since); the dialer still refuses.
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	t.Cleanup(recv.Close)
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, owner := b.member(a, access.RoleOwner)
	_, err := webhook.Set(t.Context(), b.handle(a), b.sealer, webhook.SetInput{URL: recv.URL, Secret: "whsec_0123456789abcdef"})
	require.NoError(t, err)
	out := decode[webhookTestDTO](t, b.do("POST", "/api/v1/tenants/"+string(a.ID)+"/webhook/test", owner, nil))
	require.False(t, out.OK)
	require.Zero(t, out.StatusCode)
	require.Contains(t, out.Error, "TOLLGATE_WEBHOOK_ALLOW_PRIVATE")
}

func unixTime(t *testing.T, s string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return time.Unix(n, 0)
}
