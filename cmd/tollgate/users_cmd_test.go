package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// runUsersCLI runs the root command with stdin and returns stdout and stderr apart.
func runUsersCLI(t *testing.T, dbURL, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--database-url", dbURL, "--env-file", ""}, args...))
	err := cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// TestUsersLifecycleCLI: invite prints a one-time link (never a password), an
// existing user of another tenant is never added directly, set-password reads
// stdin and signs the user out, reset-password prints a link and signs them out,
// disable/enable, sign-out, revoke-superadmin (not the last) and delete (keys
// revoked) work by email, and every refusal is one line that changes nothing.
func TestUsersLifecycleCLI(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, err := runUsersCLI(t, db, stdin, args...)
		require.NoError(t, err, "%v: %s %s", args, out, errOut)
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, _, err := runUsersCLI(t, db, "", args...)
		require.Error(t, err, "%v", args)
		require.Contains(t, oneLine(err), want)
		require.NotContains(t, oneLine(err), "\n")
	}
	run("", "tenants", "create", "--name", "Acme")
	run("", "tenants", "create", "--name", "Globex")
	run("", "users", "create", "--email", "root@example.com", "--password", "root password 123", "--superadmin")
	cfg, err := config.Parse(map[string]string{"TOLLGATE_DATABASE_URL": db, "TOLLGATE_LOG_LEVEL": "error"})
	require.NoError(t, err)
	a, err := openApp(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	svc := newIdentityServices(a, cliPasswordParams())
	sessions := accounts.NewSessions(a.db, svc.users, accounts.NewStaticKeyring("cli-test-secret-0123456789abcdef0123456789"),
		accounts.SessionConfig{}, logging.Discard())
	ctx := t.Context()

	// Given an invitation: stdout is the link alone, the note goes to stderr
	out, errOut, err := runUsersCLI(t, db, "", "users", "invite", "--email", "Bob@X.example", "--tenant", "acme", "--role", "admin")
	require.NoError(t, err)
	link := strings.TrimSpace(out)
	require.Regexp(t, `^http://localhost:8080/invite/tgl_[0-9A-Za-z]{43}$`, link)
	require.Contains(t, errOut, "invited bob@x.example as admin of acme")
	require.NotContains(t, strings.ToLower(out+errOut), "password")
	// When bob accepts it and chooses his password
	_, err = svc.users.AcceptLink(ctx, accounts.AcceptLinkInput{Token: seal.Secret(link[strings.LastIndex(link, "/")+1:]), Password: "bob's own password"})
	require.NoError(t, err)
	bob, err := svc.users.CheckPassword(ctx, "bob@x.example", "bob's own password")
	require.NoError(t, err)

	// Then another tenant cannot add him directly: only an invitation, which he accepts
	fails("users invite", "users", "create", "--email", "bob@x.example", "--tenant", "globex", "--role", "owner")
	var inv map[string]any
	require.NoError(t, json.Unmarshal([]byte(run("", "users", "invite", "--email", "bob@x.example", "--tenant", "globex", "--role", "owner", "--json")), &inv))
	require.Equal(t, "invite", inv["purpose"])
	require.NotContains(t, inv, "password")
	ms, err := svc.users.MembershipsOf(ctx, bob.ID)
	require.NoError(t, err)
	require.Len(t, ms, 1, "bob joins globex only when he accepts")
	_, err = svc.users.CheckPassword(ctx, "bob@x.example", "bob's own password")
	require.NoError(t, err, "an invitation changes nothing about an existing account")

	// set-password: from stdin, never argv; it signs bob out everywhere
	pair, err := sessions.Login(ctx, accounts.LoginInput{Email: "bob@x.example", Password: "bob's own password", IP: "192.0.2.9"})
	require.NoError(t, err)
	fails("--password-stdin", "users", "set-password", "--email", "bob@x.example")
	_, _, err = runUsersCLI(t, db, "\n", "users", "set-password", "--email", "bob@x.example", "--password-stdin")
	require.ErrorContains(t, err, "stdin held no password")
	_, _, err = runUsersCLI(t, db, "short\n", "users", "set-password", "--email", "bob@x.example", "--password-stdin")
	require.Error(t, err)
	require.Contains(t, run("a stdin password 42\n", "users", "set-password", "--email", "bob@x.example", "--password-stdin"), "password of bob@x.example set")
	_, err = svc.users.CheckPassword(ctx, "bob@x.example", "a stdin password 42")
	require.NoError(t, err)
	_, err = sessions.Refresh(ctx, pair.RefreshToken)
	require.ErrorIs(t, err, errkind.Unauthenticated)
	_, err = sessions.Verify(ctx, pair.AccessToken.Reveal())
	require.ErrorIs(t, err, errkind.Unauthenticated)

	// reset-password: a one-time /reset/ link; bob is signed out at once
	pair, err = sessions.Login(ctx, accounts.LoginInput{Email: "bob@x.example", Password: "a stdin password 42", IP: "192.0.2.9"})
	require.NoError(t, err)
	reset := strings.TrimSpace(run("", "users", "reset-password", "--email", "bob@x.example"))
	require.Regexp(t, `^http://localhost:8080/reset/tgl_[0-9A-Za-z]{43}$`, reset)
	_, err = sessions.Verify(ctx, pair.AccessToken.Reveal())
	require.ErrorIs(t, err, errkind.Unauthenticated)
	_, err = svc.users.AcceptLink(ctx, accounts.AcceptLinkInput{Token: seal.Secret(reset[strings.LastIndex(reset, "/")+1:]), Password: "after the reset 1"})
	require.NoError(t, err)
	_, err = svc.users.CheckPassword(ctx, "bob@x.example", "after the reset 1")
	require.NoError(t, err)

	// disable / enable / sign-out
	pair, err = sessions.Login(ctx, accounts.LoginInput{Email: "bob@x.example", Password: "after the reset 1", IP: "192.0.2.9"})
	require.NoError(t, err)
	require.Contains(t, run("", "users", "disable", "--email", "bob@x.example"), "disabled")
	_, err = svc.users.CheckPassword(ctx, "bob@x.example", "after the reset 1")
	require.ErrorIs(t, err, errkind.Unauthenticated)
	_, err = sessions.Refresh(ctx, pair.RefreshToken)
	require.ErrorIs(t, err, errkind.Unauthenticated)
	run("", "users", "enable", "--email", "bob@x.example")
	pair, err = sessions.Login(ctx, accounts.LoginInput{Email: "bob@x.example", Password: "after the reset 1", IP: "192.0.2.9"})
	require.NoError(t, err)
	require.Contains(t, run("", "users", "sign-out", "--email", "bob@x.example"), "signed out everywhere")
	_, err = sessions.Verify(ctx, pair.AccessToken.Reveal())
	require.ErrorIs(t, err, errkind.Unauthenticated)

	// superadmin: the last one cannot be revoked
	fails("last superadmin", "users", "revoke-superadmin", "--email", "root@example.com")
	run("", "users", "grant-superadmin", "--email", "bob@x.example")
	run("", "users", "revoke-superadmin", "--email", "root@example.com")
	run("", "users", "grant-superadmin", "--email", "root@example.com")
	run("", "users", "revoke-superadmin", "--email", "bob@x.example")

	// delete: bob's keys are revoked with him
	acme, err := a.registry.Get(ctx, "acme")
	require.NoError(t, err)
	k, _, err := svc.keys.Create(ctx, apikeys.CreateKeyInput{TenantID: acme.ID, Name: "bob's", Actor: audit.Actor{UserID: bob.ID, Email: bob.Email}})
	require.NoError(t, err)
	fails("no user with email", "users", "delete", "--email", "nobody@example.com")
	require.Contains(t, run("", "users", "delete", "--email", "bob@x.example"), "deleted user bob@x.example")
	k, err = svc.keys.Get(ctx, acme.ID, k.ID)
	require.NoError(t, err)
	require.NotNil(t, k.RevokedAt)
	_, err = svc.users.FindByEmail(ctx, "bob@x.example")
	require.ErrorIs(t, err, errkind.NotFound)
}
