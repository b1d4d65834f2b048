package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
	"github.com/tollgate-dev/tollgate/tenants/sso"
)

type ssoGroupRoleDTO struct {
	Group string `json:"group"`
	Role  string `json:"role"`
}

// ssoSettingsDTO is a tenant's identity provider. The client secret is
// write-only: only whether one is stored is ever returned.
type ssoSettingsDTO struct {
	// Configured is false when the tenant has no provider (other fields empty).
	Configured bool `json:"configured"`
	// Source is "tenant" (stored here) or "environment" (TOLLGATE_OIDC_*, read-only).
	Source          string            `json:"source"`
	Issuer          string            `json:"issuer"`
	ClientID        string            `json:"client_id"`
	ClientSecretSet bool              `json:"client_secret_set"`
	AllowedDomains  []string          `json:"allowed_domains"`
	RoleMapping     []ssoGroupRoleDTO `json:"role_mapping"`
	// DefaultRole is the role of a new member none of whose groups is mapped; "" refuses them.
	DefaultRole string `json:"default_role"`
	GroupsClaim string `json:"groups_claim"`
	Enabled     bool   `json:"enabled"`
	// Required turns off password sign-in for the tenant's members.
	Required bool `json:"required"`
	// RedirectURL is the callback to register at the provider.
	RedirectURL string     `json:"redirect_url"`
	UpdatedAt   *time.Time `json:"updated_at"`
}

type setSSORequest struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecret is sealed before it is stored; omitted or empty keeps the stored one.
	ClientSecret   string            `json:"client_secret"`
	AllowedDomains []string          `json:"allowed_domains"`
	RoleMapping    []ssoGroupRoleDTO `json:"role_mapping"`
	DefaultRole    string            `json:"default_role"`
	GroupsClaim    string            `json:"groups_claim"`
	Enabled        bool              `json:"enabled"`
	Required       bool              `json:"required"`
}

func (id *Identity) mapSSO(c *gin.Context, st sso.Settings, ok bool) ssoSettingsDTO {
	out := ssoSettingsDTO{Source: "tenant", AllowedDomains: []string{}, RoleMapping: []ssoGroupRoleDTO{}, RedirectURL: id.ssoRedirectURL(c)}
	if st.Platform {
		out.Source = "environment"
	}
	if !ok {
		return out
	}
	out.Configured, out.Issuer, out.ClientID, out.ClientSecretSet = true, st.Issuer, st.ClientID, st.ClientSecret != ""
	out.AllowedDomains = append(out.AllowedDomains, st.Domains...)
	for _, m := range st.Mapping {
		out.RoleMapping = append(out.RoleMapping, ssoGroupRoleDTO{Group: m.Group, Role: string(m.Role)})
	}
	out.DefaultRole, out.GroupsClaim, out.Enabled, out.Required = string(st.DefaultRole), st.GroupsClaim, st.Enabled, st.Required
	if !st.UpdatedAt.IsZero() {
		u := st.UpdatedAt.UTC()
		out.UpdatedAt = &u
	}
	return out
}

// getSSO: GET /api/v1/tenants/{tenant}/sso (owners and admins).
func (id *Identity) getSSO(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	st, ok, err := svc.Store().Get(c.Request.Context(), p.TenantID())
	if err != nil {
		return err
	}
	if !ok {
		st = sso.Settings{Platform: svc.Store().EnvConfigured()}
	}
	c.JSON(http.StatusOK, id.mapSSO(c, st, ok))
	return nil
}

// setSSO: PUT /api/v1/tenants/{tenant}/sso (owners and admins). Replaces the
// settings; the secret is sealed under TOLLGATE_MASTER_KEY. Mapping a group to
// owner takes an owner. Audited without the secret.
func (id *Identity) setSSO(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req setSSORequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := sso.SetInput{Tenant: p.TenantID(), Issuer: req.Issuer, ClientID: req.ClientID, ClientSecret: seal.Secret(req.ClientSecret),
		Domains: req.AllowedDomains, DefaultRole: access.Role(req.DefaultRole), GroupsClaim: req.GroupsClaim, Enabled: req.Enabled,
		Required: req.Required, MayGrantOwner: id.may(c, p, access.ResourceMembers, access.ActionManageOwners)}
	for _, m := range req.RoleMapping {
		in.Mapping = append(in.Mapping, sso.GroupRole{Group: m.Group, Role: access.Role(m.Role)})
	}
	st, err := svc.Store().Set(c.Request.Context(), in)
	if err != nil {
		return err
	}
	roles := map[string]string{}
	for _, m := range st.Mapping {
		roles[m.Group] = string(m.Role)
	}
	id.recordSSO(c, p.TenantID(), audit.AuditSSOSet, st.Issuer, map[string]any{"client_id": st.ClientID, "allowed_domains": st.Domains,
		"role_mapping": roles, "default_role": st.DefaultRole, "enabled": st.Enabled, "required": st.Required, "secret_changed": req.ClientSecret != ""})
	c.JSON(http.StatusOK, id.mapSSO(c, st, true))
	return nil
}

// deleteSSO: DELETE /api/v1/tenants/{tenant}/sso (owners and admins). Members
// sign in with passwords again (those without one use a reset link).
func (id *Identity) deleteSSO(c *gin.Context) error {
	svc, err := id.ssoService()
	if err != nil {
		return err
	}
	p, err := principal(c)
	if err != nil {
		return err
	}
	if err := svc.Store().Delete(c.Request.Context(), p.TenantID()); err != nil {
		return err
	}
	id.recordSSO(c, p.TenantID(), audit.AuditSSODeleted, "", nil)
	c.Status(http.StatusNoContent)
	return nil
}

// recordSSO audits a settings change already made: a failed record is logged,
// not returned.
func (id *Identity) recordSSO(c *gin.Context, tenant tenants.ID, action, target string, details map[string]any) {
	if err := id.audit(c, tenant, action, target, details); err != nil {
		id.d.Logger.ErrorContext(c.Request.Context(), "audit record failed", "error", err, "action", action)
	}
}
