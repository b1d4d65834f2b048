package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// runIdentityCLI runs the root command with args against dbURL and returns stdout.
func runIdentityCLI(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--database-url", dbURL, "--env-file", ""}, args...))
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestUsersAndKeysCLI(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := runIdentityCLI(t, db, args...)
		require.NoError(t, err, out)
		return out
	}
	// Given a tenant
	run("tenants", "create", "--name", "Acme Corp")

	// When users are created with roles (by slug), or as superadmin
	out := run("users", "create", "--email", "dev@example.com", "--password", "a long password", "--tenant", "acme-corp", "--role", "developer", "--json")
	var u map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &u))
	require.Equal(t, "developer", u["role"])
	require.NotContains(t, u, "password")
	out = run("users", "create", "--email", "root@example.com", "--superadmin")
	require.Contains(t, out, "superadmin")
	// Without --password nobody but the user learns one: a one-time link to choose it.
	require.Contains(t, out, "http://localhost:8080/reset/tgl_")
	require.NotContains(t, out, "password (shown once)")

	// Then a key can be created (secret printed once), listed and revoked by prefix
	out = run("keys", "create", "--tenant", "acme-corp", "--name", "ci", "--scopes", "inference,read:usage", "--expires", "720h", "--json")
	var k keyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &k))
	require.True(t, strings.HasPrefix(k.Secret, "tg_"))
	require.Equal(t, []string{"inference", "read:usage"}, k.Scopes)
	require.NotNil(t, k.ExpiresAt)
	out = run("keys", "list", "--tenant", "acme-corp", "--json")
	require.Contains(t, out, k.ID)
	require.NotContains(t, out, k.Secret)
	out = run("keys", "revoke", "--tenant", "acme-corp", k.Prefix)
	require.Contains(t, out, "revoked key "+k.ID)
	require.Contains(t, run("keys", "list", "--tenant", "acme-corp"), "revoked")

	// Errors are one actionable line.
	for _, args := range [][]string{
		{"keys", "create", "--tenant", "nope", "--name", "x"},
		{"keys", "create", "--tenant", "acme-corp", "--name", "x", "--scopes", "admin"},
		{"keys", "list"},
		{"keys", "revoke", "--tenant", "acme-corp", "tg_nothere"},
		{"users", "create", "--email", "x@example.com", "--tenant", "acme-corp", "--role", "god"},
		{"users", "create", "--email", "dev@example.com", "--password", "a long password", "--superadmin"},
		{"users", "create", "--email", "y@example.com", "--password", "short", "--superadmin"},
	} {
		_, err := runIdentityCLI(t, db, args...)
		require.Error(t, err, "%v", args)
		require.NotContains(t, oneLine(err), "\n")
		t.Logf("%v -> %s", args, oneLine(err))
	}
}
