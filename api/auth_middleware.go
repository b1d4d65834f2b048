package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// TenantParam is the path parameter naming the tenant (id or slug) in every
// tenant-scoped admin route: /api/v1/tenants/:tenant/...
const TenantParam = "tenant"

// gin context keys of the authenticated caller. Only this file and auth_apikey.go
// set them.
const (
	sessionKey = "tollgate.session"
	apiKeyKey  = "tollgate.api_key"
)

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(c *gin.Context) (string, bool) {
	v := c.Request.Header.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	return tok, tok != ""
}

func errNoCredentials() error {
	return &errkind.Error{Kind: errkind.Unauthenticated, Code: "missing_credentials",
		Message: "sign in first: send Authorization: Bearer <access token from POST /api/v1/auth/login>"}
}

// requireSession admits only a signed-in user (an API key is refused: admin
// endpoints other than usage reads need a person).
func (id *Identity) requireSession(c *gin.Context) {
	tok, ok := bearer(c)
	if !ok {
		writeError(c, errNoCredentials())
		return
	}
	if strings.HasPrefix(tok, apikeys.APIKeyPrefix) {
		writeError(c, errkind.New(errkind.Unauthenticated, "this endpoint needs a user session, not an API key"))
		return
	}
	s, err := id.d.Sessions.Verify(c.Request.Context(), tok)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Set(sessionKey, &s)
	c.Next()
}

// authenticate admits a signed-in user or an API key (keys are then limited by
// AuthorizeOrScope).
func (id *Identity) authenticate(c *gin.Context) {
	tok, ok := bearer(c)
	if !ok {
		writeError(c, errNoCredentials())
		return
	}
	if strings.HasPrefix(tok, apikeys.APIKeyPrefix) {
		k, err := id.d.KeyAuth.AuthenticateFor(c.Request.Context(), tok, c)
		if err != nil {
			writeError(c, err)
			return
		}
		c.Set(apiKeyKey, k)
		c.Next()
		return
	}
	id.requireSession(c)
}

// TenantGroup returns the /api/v1/tenants/:tenant route group. Its middleware
// authenticates the caller (session or API key) and resolves the tenant ONCE, from
// the path and the caller, never from the body: a session must belong to a member
// of the tenant or to a superadmin, a key to the tenant itself; anything else is 404,
// so tenant existence is not revealed. Handlers then read the tenant from the
// principal (tenants.PrincipalFrom). Routes must still add Authorize or
// AuthorizeOrScope.
func (id *Identity) TenantGroup(e *gin.Engine) *gin.RouterGroup {
	return e.Group("/api/v1/tenants/:"+TenantParam, id.authenticate, id.resolveTenant)
}

func (id *Identity) resolveTenant(c *gin.Context) {
	ref := c.Param(TenantParam)
	notFound := errkind.New(errkind.NotFound, "tenant %q not found", ref)
	ctx := c.Request.Context()
	t, err := id.d.Registry.Get(ctx, ref)
	if err != nil {
		if errkind.Of(err) == errkind.NotFound {
			err = notFound
		}
		writeError(c, err)
		return
	}
	var p tenants.Principal
	if s, ok := sessionOf(c); ok {
		// A session started through a tenant's identity provider reaches that
		// tenant only, whatever else the account may reach.
		if s.Tenant != "" && s.Tenant != t.ID {
			writeError(c, notFound)
			return
		}
		if !s.User.Superadmin || s.Tenant != "" {
			if _, err := id.d.Users.Membership(ctx, t.ID, s.User.ID); err != nil {
				if errkind.Of(err) == errkind.NotFound {
					err = notFound
				}
				writeError(c, err)
				return
			}
		}
		p = tenants.NewPrincipal(t, tenants.PrincipalSession, s.User.ID)
	} else if k, ok := keyOf(c); ok {
		if k.Tenant.ID != t.ID {
			writeError(c, notFound)
			return
		}
		p = tenants.NewPrincipal(t, tenants.PrincipalAPIKey, k.ID)
	} else {
		writeError(c, errNoCredentials())
		return
	}
	ctx = logging.WithTenantID(tenants.WithPrincipal(ctx, p), string(t.ID))
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// Authorize is THE authorization check of admin routes: it asks the Casbin policy
// whether the session's user may do action on resource in the resolved tenant
// (403 when not). API keys are refused: use AuthorizeOrScope for routes keys may call.
func (id *Identity) Authorize(resource access.Resource, action access.Action) gin.HandlerFunc {
	return id.authorize(resource, action, "")
}

// AuthorizeOrScope is Authorize that also admits an API key of the tenant carrying
// scope (read-only usage routes take apikeys.ScopeReadUsage).
func (id *Identity) AuthorizeOrScope(resource access.Resource, action access.Action, scope string) gin.HandlerFunc {
	return id.authorize(resource, action, scope)
}

// AuthorizePlatform checks a platform permission (superadmins only). It works on
// session routes and on tenant routes alike.
func (id *Identity) AuthorizePlatform(action access.Action) gin.HandlerFunc {
	return id.authorize(access.ResourcePlatform, action, "")
}

func (id *Identity) authorize(resource access.Resource, action access.Action, scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if k, ok := keyOf(c); ok {
			if scope == "" {
				writeError(c, errkind.New(errkind.Forbidden, "API keys may not call this endpoint; sign in as a user"))
				return
			}
			if !k.HasScope(scope) {
				writeError(c, errkind.New(errkind.Forbidden, "this API key lacks the %q scope", scope))
				return
			}
			c.Next()
			return
		}
		s, ok := sessionOf(c)
		if !ok {
			writeError(c, errNoCredentials())
			return
		}
		var allowed bool
		var err error
		if resource == access.ResourcePlatform {
			if s.Tenant != "" {
				writeError(c, errkind.New(errkind.Forbidden, "a session started through a tenant's single sign-on cannot do platform operations; sign in with your password"))
				return
			}
			allowed, err = id.d.Authz.CanPlatform(s.User.ID, action)
		} else {
			p, ok := tenants.PrincipalFrom(c.Request.Context())
			if !ok {
				writeError(c, errkind.New(errkind.Unauthenticated, "no tenant resolved for this route"))
				return
			}
			allowed, err = id.d.Authz.Can(s.User.ID, p.TenantID(), resource, action)
		}
		if err != nil {
			writeError(c, err)
			return
		}
		if !allowed {
			writeError(c, errkind.New(errkind.Forbidden, "your role may not %s %s in this tenant", action, resource))
			return
		}
		c.Next()
	}
}

// may asks the policy about a second permission inside a handler (the owner-role
// rules of member management). False for API keys.
// keyNames returns the name of a tenant's key by id for a response that names
// keys: one lookup per distinct key, "" for a key that is gone or when the
// caller may not read keys (then nothing is looked up).
func (id *Identity) keyNames(c *gin.Context, p tenants.Principal) func(keyID string) string {
	if id == nil || !id.may(c, p, access.ResourceKeys, access.ActionRead) {
		return func(string) string { return "" }
	}
	names := map[string]string{}
	return func(keyID string) string {
		if keyID == "" {
			return ""
		}
		name, ok := names[keyID]
		if !ok {
			if k, err := id.d.Keys.Get(c.Request.Context(), p.TenantID(), keyID); err == nil {
				name = k.Name
			}
			names[keyID] = name
		}
		return name
	}
}

func (id *Identity) may(c *gin.Context, p tenants.Principal, resource access.Resource, action access.Action) bool {
	s, ok := sessionOf(c)
	if !ok {
		return false
	}
	allowed, err := id.d.Authz.Can(s.User.ID, p.TenantID(), resource, action)
	return err == nil && allowed
}

func sessionOf(c *gin.Context) (*accounts.Session, bool) {
	v, ok := c.Get(sessionKey)
	if !ok {
		return nil, false
	}
	s, ok := v.(*accounts.Session)
	return s, ok
}

func keyOf(c *gin.Context) (*apikeys.AuthenticatedKey, bool) {
	v, ok := c.Get(apiKeyKey)
	if !ok {
		return nil, false
	}
	k, ok := v.(*apikeys.AuthenticatedKey)
	return k, ok
}

// principal extracts the resolved tenant principal: handlers call it once.
func principal(c *gin.Context) (tenants.Principal, error) {
	p, ok := tenants.PrincipalFrom(c.Request.Context())
	if !ok {
		return tenants.Principal{}, errkind.New(errkind.Unauthenticated, "no authenticated tenant")
	}
	return p, nil
}

// actor is who is acting, for the audit log: the session's user and the client IP.
func actor(c *gin.Context) audit.Actor {
	a := audit.Actor{IP: c.ClientIP()}
	if s, ok := sessionOf(c); ok {
		a.UserID, a.Email = s.User.ID, s.User.Email
	} else if k, ok := keyOf(c); ok {
		a.UserID, a.Email = "key:"+k.ID, k.Prefix
	}
	return a
}
