// Package testdb gives each test its own real database: a fresh Postgres database
// (dropped afterwards) or a SQLite file in the test's temp dir. Without a reachable
// Postgres it skips the test locally and fails it under CI=true, so CI never passes
// by skipping.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// DefaultAdminURL is the Postgres used when TOLLGATE_TEST_DATABASE_URL is unset.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the URL of the Postgres server tests create databases on.
func AdminURL() string {
	if u := os.Getenv("TOLLGATE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// InCI reports whether missing services must fail rather than skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test locally, or fails it under CI=true.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable (%v); run `make test` to start the test services", what, err)
}

// Postgres creates a fresh database for t and returns its URL. The database is
// dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		Unavailable(t, "Postgres", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		Unavailable(t, "Postgres", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tg_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse admin url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// SQLite returns a sqlite:// URL for a database file in the test's temp dir.
func SQLite(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
}
