package webhook

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestCheckURL: the checks at save time; private hosts pass only when allowed.
func TestCheckURL(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://hooks.example.com/x":   true,
		"":                              false,
		"ftp://example.com":             false,
		"https://user:pw@example.com/x": false,
		"http://127.0.0.1:9/x":          false,
		"http://localhost./x":           false,
		"http://printer.local/x":        false,
		"http://[::ffff:127.0.0.1]/x":   false,
	} {
		err := CheckURL(t.Context(), raw, false)
		if ok {
			require.NoError(t, err, raw)
			continue
		}
		require.ErrorIs(t, err, errkind.Invalid, raw)
	}
	require.NoError(t, CheckURL(t.Context(), "http://127.0.0.1:9/x", true))
	require.ErrorIs(t, CheckURL(t.Context(), "http://127.0.0.1:9/x", false), ErrPrivateAddress)
}

// TestPostSignsAndGuards: a delivery carries the event, the delivery id and a
// signature over its exact body; the guarded client refuses loopback at dial
// time; a non-2xx answer is an error with its status.
func TestPostSignsAndGuards(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var body []byte
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	hook := Webhook{URL: srv.URL + "/hook", Secret: "0123456789abcdef"}
	now := time.Unix(1_800_000_000, 0)
	payload := []byte(`{"type":"webhook.test"}`)

	code, err := Post(t.Context(), NewClient(time.Second, true), hook, EventTest, "whd_1", payload, now)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, EventTest, got.Header.Get("X-Tollgate-Event"))
	require.Equal(t, "whd_1", got.Header.Get("X-Tollgate-Delivery"))
	require.Equal(t, Sign("0123456789abcdef", now, payload), got.Header.Get(SignatureHeader))
	require.Equal(t, payload, body)

	status = http.StatusBadGateway
	code, err = Post(t.Context(), NewClient(time.Second, true), hook, EventTest, "whd_2", payload, now)
	require.Error(t, err)
	require.Equal(t, http.StatusBadGateway, code)

	_, err = Post(t.Context(), NewClient(time.Second, false), hook, EventTest, "whd_3", payload, now)
	require.True(t, errors.Is(err, ErrPrivateAddress), "%v", err)
}
