package accounts

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// TestInvitationAcceptedOnce: of concurrent acceptances of one link exactly one
// creates the account; the others change nothing.
func TestInvitationAcceptedOnce(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()
			users := NewUsers(b.db, NewHasher(TestPasswordParams()), tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logging.Discard()), logging.Discard())
			tn, err := b.reg.Create(ctx, tenants.CreateInput{Name: "acme"})
			require.NoError(t, err)
			link, err := users.Invite(ctx, InviteInput{TenantID: tn.ID, Email: "race@example.com", Role: access.RoleViewer, Actor: audit.CLIActor()})
			require.NoError(t, err)

			const n = 6
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = users.AcceptLink(ctx, AcceptLinkInput{Token: link.Token, Password: seal.Secret("password number " + string(rune('a'+i)))})
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
					continue
				}
				require.ErrorIs(t, err, errkind.NotFound, "a loser finds the link used")
			}
			require.Equal(t, 1, won)
			var accounts, members int64
			require.NoError(t, b.db.Gorm.Model(&userRow{}).Where("email = ?", "race@example.com").Count(&accounts).Error)
			require.NoError(t, b.db.Gorm.Model(&membershipRow{}).Where("tenant_id = ?", string(tn.ID)).Count(&members).Error)
			require.Equal(t, int64(1), accounts)
			require.Equal(t, int64(1), members)
		})
	}
}

// TestAddMemberNeverJoinsAnotherTenantsUser: the operator's direct add works for a
// user of no tenant or a role change, never for a user of another tenant (they must
// accept an invitation).
func TestAddMemberNeverJoinsAnotherTenantsUser(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	users := NewUsers(b.db, NewHasher(TestPasswordParams()), tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logging.Discard()), logging.Discard())
	acme, err := b.reg.Create(ctx, tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	globex, err := b.reg.Create(ctx, tenants.CreateInput{Name: "globex"})
	require.NoError(t, err)
	u, err := users.Create(ctx, CreateUserInput{Email: "bob@example.com", Password: "long enough pw"})
	require.NoError(t, err)
	require.NoError(t, users.AddMember(ctx, acme.ID, u.ID, access.RoleViewer, audit.CLIActor()))
	require.NoError(t, users.AddMember(ctx, acme.ID, u.ID, access.RoleAdmin, audit.CLIActor()), "a role change in the same tenant")
	err = users.AddMember(ctx, globex.ID, u.ID, access.RoleOwner, audit.CLIActor())
	require.ErrorIs(t, err, errkind.Conflict)
	require.ErrorContains(t, err, "invite them")
	_, err = users.Membership(ctx, globex.ID, u.ID)
	require.ErrorIs(t, err, errkind.NotFound)
}
