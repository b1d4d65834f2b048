package api

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

func TestConsoleServing(t *testing.T) {
	t.Parallel()
	console := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/app-abc1.js": {Data: []byte("console.log('tollgate');")},
	}
	for _, tc := range []struct {
		name, path, gzipAccept string
		status                 int
		cache, ctype, body     string
		gzipped                bool
	}{
		{name: "index", path: "/", status: 200, cache: "no-cache", ctype: "text/html", body: "<div id=root>"},
		{name: "spa fallback", path: "/t/acme/keys", status: 200, cache: "no-cache", body: "<div id=root>"},
		{name: "hashed asset", path: "/assets/app-abc1.js", status: 200, cache: "immutable", ctype: "javascript", body: "tollgate"},
		{name: "gzip when accepted", path: "/assets/app-abc1.js", gzipAccept: "gzip, br", status: 200, body: "tollgate", gzipped: true},
		{name: "missing asset is a 404, not the SPA", path: "/assets/nope.js", status: 404},
		{name: "api miss stays JSON", path: "/api/v1/nope", status: 404, ctype: "application/json", body: `"not_found_error"`},
		{name: "v1 miss stays JSON", path: "/v1/nope", status: 404, ctype: "application/json", body: `"error"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logging.Discard(), Console: console})
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.gzipAccept != "" {
				req.Header.Set("Accept-Encoding", tc.gzipAccept)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code)
			require.Contains(t, rec.Header().Get("Cache-Control"), tc.cache)
			require.Contains(t, rec.Header().Get("Content-Type"), tc.ctype)
			body := rec.Body.Bytes()
			if tc.gzipped {
				require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
				zr, err := gzip.NewReader(rec.Body)
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			}
			require.Contains(t, string(body), tc.body)
		})
	}
	notBuilt := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logging.Discard()})
	rec := httptest.NewRecorder()
	notBuilt.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Contains(t, rec.Body.String(), "console was not built")
}

func TestReadyzAdvisoryChecks(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("redis: connection refused") }
	up := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name   string
		checks []ReadyCheck
		status int
	}{
		{"all up", []ReadyCheck{{Name: "database", Check: up}, {Name: "meter", Check: up, Advisory: true}}, 200},
		{"meter down is reported, not fatal", []ReadyCheck{{Name: "database", Check: up}, {Name: "meter", Check: down, Advisory: true}}, 200},
		{"database down is fatal", []ReadyCheck{{Name: "database", Check: down}, {Name: "meter", Check: up, Advisory: true}}, 503},
	} {
		srv := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logging.Discard(), Ready: tc.checks})
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		require.Equal(t, tc.status, rec.Code, tc.name)
		if tc.name == "meter down is reported, not fatal" {
			require.Contains(t, rec.Body.String(), "connection refused")
		}
	}
}
