package api

import (
	"context"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// budgetDirectory lists a tenant's keys and members for the budget service's
// scope checks.
type budgetDirectory struct {
	keys  *apikeys.Keys
	users *accounts.Users
}

// NewBudgetDirectory returns the budget service's view of a tenant's keys
// (id, prefix, name; revoked keys left out) and members (id, email).
func NewBudgetDirectory(keys *apikeys.Keys, users *accounts.Users) budget.Directory {
	return budgetDirectory{keys: keys, users: users}
}

func (d budgetDirectory) Keys(ctx context.Context, tenant tenants.ID) ([]budget.Named, error) {
	var out []budget.Named
	cursor := ""
	for {
		page, err := d.keys.List(ctx, apikeys.ListKeysInput{TenantID: tenant, Limit: 200, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, k := range page.Keys {
			if k.RevokedAt == nil {
				out = append(out, budget.Named{ID: k.ID, Name: k.Name, Prefix: k.Prefix})
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func (d budgetDirectory) Members(ctx context.Context, tenant tenants.ID) ([]budget.Named, error) {
	ms, err := d.users.ListMembers(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]budget.Named, len(ms))
	for i, m := range ms {
		out[i] = budget.Named{ID: m.UserID, Name: m.Email}
	}
	return out, nil
}
