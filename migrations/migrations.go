// Package migrations holds Tollgate's SQL migrations, embedded, in four mirrored
// trees: postgres/control, postgres/tenant, sqlite/control and sqlite/tenant. The
// control-plane set is applied once with goose; the tenant set is applied to each
// tenant's schema (Postgres) or database file (SQLite) inside one transaction per
// tenant, recording versions in goose's own version table so goose tooling reads them.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres sqlite
var files embed.FS

// Dialect is a SQL dialect with its own migration trees.
type Dialect string

// Dialects.
const (
	DialectPostgres Dialect = "postgres"
	DialectSQLite   Dialect = "sqlite"
)

// Set names a migration set.
type Set string

// Sets.
const (
	SetControl Set = "control"
	SetTenant  Set = "tenant"
)

// VersionTable is goose's version table name, used by both sets.
const VersionTable = "goose_db_version"

// FS returns the migration files of one dialect and set.
func FS(d Dialect, s Set) fs.FS {
	sub, err := fs.Sub(files, path.Join(string(d), string(s)))
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Migration is one parsed SQL migration.
type Migration struct {
	// Version is the file's sequential number (00001_init.sql is 1).
	Version int64
	// Name is the file name.
	Name string
	// Up is the SQL of the "-- +goose Up" section, run as one multi-statement batch.
	Up string
}

// Load parses every migration of a dialect and set, sorted by version.
func Load(d Dialect, s Set) ([]Migration, error) {
	fsys := FS(d, s)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNNN_description.sql", e.Name())
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("migration %s: bad version: %w", e.Name(), err)
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		up, err := upSection(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), Up: up})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Latest returns the highest version of a dialect and set.
func Latest(d Dialect, s Set) (int64, error) {
	ms, err := Load(d, s)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].Version, nil
}

// upSection extracts the Up block. Tenant migrations run inside the provisioning
// transaction, so "NO TRANSACTION" migrations are refused rather than half-applied.
func upSection(body string) (string, error) {
	if strings.Contains(body, "+goose NO TRANSACTION") {
		return "", fmt.Errorf("NO TRANSACTION migrations are not supported")
	}
	_, rest, ok := strings.Cut(body, "-- +goose Up")
	if !ok {
		return "", fmt.Errorf("missing -- +goose Up")
	}
	up, _, _ := strings.Cut(rest, "-- +goose Down")
	up = strings.ReplaceAll(up, "-- +goose StatementBegin", "")
	up = strings.ReplaceAll(up, "-- +goose StatementEnd", "")
	return strings.TrimSpace(up), nil
}
