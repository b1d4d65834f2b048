package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
)

// TestRequestIDIsAlwaysTheServers: the id usage is billed under is generated for
// every request; a client's X-Request-Id is only kept and echoed (when it is
// short and printable), never reused, so repeating one cannot merge requests.
func TestRequestIDIsAlwaysTheServers(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(requestID(slog.New(slog.DiscardHandler)))
	e.GET("/x", func(c *gin.Context) {
		c.String(http.StatusOK, logging.RequestID(c.Request.Context())+"|"+clientRequestID(c))
	})
	call := func(clientID string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		if clientID != "" {
			r.Header.Set("X-Request-Id", clientID)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	seen := map[string]bool{}
	for range 8 {
		w := call("my-retry-id")
		server, client, _ := strings.Cut(w.Body.String(), "|")
		require.True(t, strings.HasPrefix(server, "req_"), server)
		require.False(t, seen[server], "a repeated X-Request-Id gets a new server id")
		seen[server] = true
		require.Equal(t, server, w.Header().Get(HeaderRequestID))
		require.Equal(t, "my-retry-id", client)
		require.Equal(t, "my-retry-id", w.Header().Get("X-Request-Id"))
	}
	for _, bad := range []string{strings.Repeat("a", 129), "tab\tinside", "snow☃"} {
		w := call(bad)
		_, client, _ := strings.Cut(w.Body.String(), "|")
		require.Empty(t, client, "%q is not stored", bad)
		require.Empty(t, w.Header().Get("X-Request-Id"))
		require.NotEmpty(t, w.Header().Get(HeaderRequestID))
	}
}

// TestErrorCarriesParamAndBudgetRefusalIsFinal: a field error names its param in
// OpenAI's envelope; a hard-budget 429 says x-should-retry: false (the official
// SDKs retry 429s twice otherwise) and reads "daily", not "dayly".
func TestErrorCarriesParamAndBudgetRefusalIsFinal(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST("/v1/param", h(func(*gin.Context) error { return errkind.InvalidParam("max_tokens", "max_tokens is too large") }))
	e.POST("/v1/budget", h(func(*gin.Context) error {
		be := &billing.BudgetExceededError{Scope: "tenant", Period: "day", Limit: 50_000_000, Used: 49_000_000, Requested: 2_000_000}
		return &errkind.Error{Kind: errkind.BudgetExceeded, Message: be.Error(), Cause: be}
	}))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/param", nil))
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.JSONEq(t, `{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":"invalid_request"}}`, w.Body.String())
	require.Empty(t, w.Header().Get("x-should-retry"))

	w = httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/budget", nil))
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "false", w.Header().Get("x-should-retry"))
	require.Contains(t, w.Body.String(), "the daily tenant budget of $0.05")
	require.NotContains(t, w.Body.String(), "dayly")
}

// Request ids sort by the time they were made (new ledger rows land at the end
// of the request-id index) and stay distinct within one millisecond.
func TestRequestIDsSortByTimeAndStayDistinct(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		id := ledger.NewRequestID(t0.Add(time.Duration(i/100) * time.Millisecond))
		require.Regexp(t, `^req_[0-9a-f]{32}$`, id)
		require.False(t, seen[id], "id %s made twice", id)
		seen[id] = true
		if i%100 == 0 && prev != "" {
			require.Less(t, prev, id, "an id of a later millisecond sorts after every earlier one")
		}
		prev = id
	}
	require.Less(t, ledger.NewRequestID(t0), ledger.NewRequestID(t0.Add(24*time.Hour*365*50)))
}
