package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

type tenantDTO struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Suspended bool      `json:"suspended"`
	CreatedAt time.Time `json:"created_at"`
	// Role is the caller's role in the tenant; empty for a superadmin who is not a member.
	Role string `json:"role,omitempty"`
}

func mapTenant(t tenants.Tenant, role access.Role) tenantDTO {
	return tenantDTO{ID: string(t.ID), Slug: t.Slug, Name: t.Name, Status: string(t.Status), Suspended: t.Status == tenants.StatusSuspended,
		CreatedAt: t.CreatedAt.UTC(), Role: string(role)}
}

type listResponse[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// listTenants: GET /api/v1/tenants. A superadmin sees every tenant; anyone else the
// tenants they are a member of.
func (id *Identity) listTenants(c *gin.Context) error {
	s, ok := sessionOf(c)
	if !ok {
		return errkind.New(errkind.Unauthenticated, "sign in first")
	}
	ctx := c.Request.Context()
	ms, err := id.d.Users.MembershipsOf(ctx, s.User.ID)
	if err != nil {
		return err
	}
	ms = scopeMemberships(s, ms)
	roles := map[tenants.ID]access.Role{}
	out := listResponse[tenantDTO]{Data: []tenantDTO{}}
	for _, m := range ms {
		roles[m.Tenant.ID] = m.Role
	}
	if s.User.Superadmin && s.Tenant == "" {
		limit, err := queryLimit(c)
		if err != nil {
			return err
		}
		page, err := id.d.Registry.Page(ctx, tenants.PageInput{Query: c.Query("q"), Limit: limit, Cursor: c.Query("cursor")})
		if err != nil {
			return err
		}
		for _, t := range page.Tenants {
			out.Data = append(out.Data, mapTenant(t, roles[t.ID]))
		}
		out.NextCursor = page.NextCursor
	} else {
		// A user's own tenants are few: one page, filtered here.
		q := strings.ToLower(strings.TrimSpace(c.Query("q")))
		for _, m := range ms {
			if q == "" || strings.Contains(strings.ToLower(m.Tenant.Name), q) || strings.Contains(m.Tenant.Slug, q) {
				out.Data = append(out.Data, mapTenant(m.Tenant, m.Role))
			}
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type createTenantRequest struct {
	Name         string `json:"name"`
	BillingEmail string `json:"billing_email"`
}

// createTenant: POST /api/v1/tenants (superadmin).
func (id *Identity) createTenant(c *gin.Context) error {
	var req createTenantRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	t, err := id.d.Registry.Create(ctx, tenants.CreateInput{Name: req.Name, BillingEmail: req.BillingEmail})
	if err != nil {
		return err
	}
	if err := id.audit(c, t.ID, audit.AuditTenantCreated, t.Slug, map[string]any{"name": t.Name}); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, mapTenant(t, ""))
	return nil
}

// getTenant: GET /api/v1/tenants/{tenant}.
func (id *Identity) getTenant(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapTenant(p.Tenant(), ""))
	return nil
}

// suspendTenant: POST /api/v1/tenants/{tenant}/suspend (superadmin). Its API keys
// are refused on every instance within a second.
func (id *Identity) suspendTenant(c *gin.Context) error {
	return id.setTenantStatus(c, tenants.StatusSuspended, audit.AuditTenantSuspended)
}

// resumeTenant: POST /api/v1/tenants/{tenant}/resume (superadmin).
func (id *Identity) resumeTenant(c *gin.Context) error {
	return id.setTenantStatus(c, tenants.StatusActive, audit.AuditTenantResumed)
}

func (id *Identity) setTenantStatus(c *gin.Context, status tenants.Status, action string) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	t, err := id.d.Registry.SetStatus(ctx, p.TenantID(), status)
	if err != nil {
		return err
	}
	if err := id.d.Feed.Announce(ctx, tenants.Change{Kind: tenants.ChangeTenant, Ref: string(t.ID)}); err != nil {
		return err
	}
	if err := id.audit(c, t.ID, action, t.Slug, nil); err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapTenant(t, ""))
	return nil
}

// audit records a change the Registry made (it does not write the audit log itself).
func (id *Identity) audit(c *gin.Context, tenant tenants.ID, action, target string, details map[string]any) error {
	return id.d.Audit.Record(c.Request.Context(), tenant, actor(c), action, target, details)
}
