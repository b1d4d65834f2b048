package api

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
	"github.com/tollgate-dev/tollgate/tenants/sso"
)

// IdentityDeps are the identity services the admin API and the auth middleware use.
type IdentityDeps struct {
	Registry *tenants.Registry
	Users    *accounts.Users
	Sessions *accounts.Sessions
	Keys     *apikeys.Keys
	KeyAuth  *apikeys.KeyAuthenticator
	Authz    *access.Authorizer
	Audit    *audit.AuditLog
	Feed     *tenants.ChangeFeed
	// SSO runs single sign-on; nil turns it off (its endpoints answer 404).
	SSO    *sso.Service
	Logger *slog.Logger
	// PublicURL is the console's base URL for one-time links; empty uses the
	// request's host.
	PublicURL string
}

// Identity is the admin API's authentication and authorization: JWT sessions, API
// keys, tenant resolution and Casbin checks, plus the auth, me, tenants, members,
// keys and audit endpoints. Other route owners use its middleware to protect their
// tenant-scoped routes:
//
//	g := ident.TenantGroup(e) // /api/v1/tenants/:tenant, caller resolved to a member
//	g.GET("/budgets", ident.Authorize(access.ResourceBudgets, access.ActionRead), h(listBudgets))
//	g.GET("/usage", ident.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(usage))
type Identity struct {
	d IdentityDeps
}

// NewIdentity returns the identity layer.
func NewIdentity(d IdentityDeps) *Identity {
	d.Logger = d.Logger.With("component", "api.identity")
	return &Identity{d: d}
}

// KeyAuth returns the API-key authenticator, for RequireAPIKey on /v1 routes.
func (id *Identity) KeyAuth() *apikeys.KeyAuthenticator { return id.d.KeyAuth }

// Register adds the identity endpoints (auth, me, tenants, members, keys, audit) and
// the OpenAPI document.
func (id *Identity) Register(e *gin.Engine) {
	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", serveOpenAPI)
	v1.POST("/auth/login", h(id.login))
	v1.POST("/auth/refresh", h(id.refresh))
	v1.POST("/auth/logout", h(id.logout))
	v1.POST("/links/lookup", h(id.lookupLink))
	v1.POST("/links/accept", h(id.acceptLink))
	v1.GET("/auth/sso", h(id.ssoInfo))
	v1.POST("/auth/sso/start", h(id.ssoStart))
	v1.GET("/auth/sso/callback", h(id.ssoCallback))
	v1.POST("/auth/sso/exchange", h(id.ssoExchange))

	sess := v1.Group("", id.requireSession)
	sess.GET("/me", h(id.me))
	sess.POST("/me/password", h(id.changePassword))
	sess.POST("/me/sign-out-everywhere", h(id.signOutEverywhere))
	sess.GET("/audit", id.AuthorizePlatform(access.ActionManageUsers), h(id.listPlatformAudit))
	users := sess.Group("/users", id.AuthorizePlatform(access.ActionManageUsers))
	users.GET("", h(id.listUsers))
	users.POST("/:user_id/disable", h(id.disableUser))
	users.POST("/:user_id/enable", h(id.enableUser))
	users.POST("/:user_id/sign-out", h(id.signOutUser))
	users.DELETE("/:user_id", h(id.deleteUser))
	users.PUT("/:user_id/superadmin", h(id.grantSuperadmin))
	users.DELETE("/:user_id/superadmin", h(id.revokeSuperadmin))
	sess.GET("/tenants", h(id.listTenants))
	sess.POST("/tenants", id.AuthorizePlatform(access.ActionManageTenants), h(id.createTenant))

	t := id.TenantGroup(e)
	t.GET("", id.Authorize(access.ResourceTenant, access.ActionRead), h(id.getTenant))
	t.POST("/suspend", id.AuthorizePlatform(access.ActionManageTenants), h(id.suspendTenant))
	t.POST("/resume", id.AuthorizePlatform(access.ActionManageTenants), h(id.resumeTenant))

	t.GET("/members", id.Authorize(access.ResourceMembers, access.ActionRead), h(id.listMembers))
	t.PATCH("/members/:user_id", id.Authorize(access.ResourceMembers, access.ActionUpdate), h(id.changeMemberRole))
	t.DELETE("/members/:user_id", id.Authorize(access.ResourceMembers, access.ActionDelete), h(id.removeMember))
	t.GET("/invitations", id.Authorize(access.ResourceMembers, access.ActionRead), h(id.listInvitations))
	t.POST("/invitations", id.Authorize(access.ResourceMembers, access.ActionCreate), h(id.createInvitation))
	t.DELETE("/invitations/:invitation_id", id.Authorize(access.ResourceMembers, access.ActionDelete), h(id.revokeInvitation))

	t.GET("/keys", id.Authorize(access.ResourceKeys, access.ActionRead), h(id.listKeys))
	t.POST("/keys", id.Authorize(access.ResourceKeys, access.ActionCreate), h(id.createKey))
	t.GET("/keys/:key_id", id.Authorize(access.ResourceKeys, access.ActionRead), h(id.getKey))
	t.POST("/keys/:key_id/revoke", id.Authorize(access.ResourceKeys, access.ActionRevoke), h(id.revokeKey))
	t.POST("/keys/:key_id/rotate", id.Authorize(access.ResourceKeys, access.ActionRotate), h(id.rotateKey))

	t.GET("/audit", id.Authorize(access.ResourceAudit, access.ActionRead), h(id.listAudit))

	t.GET("/sso", id.Authorize(access.ResourceSSO, access.ActionRead), h(id.getSSO))
	t.PUT("/sso", id.Authorize(access.ResourceSSO, access.ActionWrite), h(id.setSSO))
	t.DELETE("/sso", id.Authorize(access.ResourceSSO, access.ActionWrite), h(id.deleteSSO))
}
