package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
	"github.com/tollgate-dev/tollgate/tenants/sso"
)

// identityParts is what the identity layer adds to `serve`: its routes and its
// background loops (key revocation listener, last-used flusher).
type identityParts struct {
	routes []func(r *gin.Engine)
	// run starts background loops; they stop when ctx is cancelled.
	run func(ctx context.Context)
	// identity protects other owners' admin routes: identity.TenantGroup(e) with
	// identity.Authorize(resource, action) or identity.AuthorizeOrScope(...).
	identity *api.Identity
	// keyAuth authenticates /v1 API keys: api.RequireAPIKey(keyAuth, apikeys.ScopeInference).
	keyAuth *apikeys.KeyAuthenticator
	// feed tells this instance what other instances changed (keys, budgets, RBAC).
	feed *tenants.ChangeFeed
	// sessions signs users in (the desktop tray signs its owner in with it).
	sessions *accounts.Sessions
	// services are the key, member and audit stores (the budget service's scope checks).
	services identityServices
}

// identityServices are the identity services shared by serve and the CLI.
type identityServices struct {
	feed  *tenants.ChangeFeed
	users *accounts.Users
	keys  *apikeys.Keys
	audit *audit.AuditLog
}

// newIdentityServices builds the services that need no background loop. The CLI
// uses them directly: its writes reach running servers through the change feed
// (Postgres NOTIFY in the same transaction; SQLite servers poll).
func newIdentityServices(a *app, pw accounts.PasswordParams) identityServices {
	feed := tenants.NewChangeFeed(a.db, tenants.ChangeFeedConfig{}, a.logger)
	return identityServices{
		feed:  feed,
		users: accounts.NewUsers(a.db, accounts.NewHasher(pw), feed, a.logger),
		keys:  apikeys.NewKeys(a.db, feed, a.logger),
		audit: audit.NewAuditLog(a.db),
	}
}

// wireIdentity builds users, sessions, RBAC and API keys for serve: it seeds the
// RBAC policy, bootstraps the platform admin (printing a generated password once to
// out, never to the log) and, in single-tenant mode, makes them owner of the
// default tenant.
func wireIdentity(ctx context.Context, a *app, out io.Writer) (identityParts, error) {
	svc := newIdentityServices(a, accounts.PasswordParams{})
	// A tenant moved to another cluster (tollgate tenants move) is announced on the
	// feed; the registry forgets its cached cluster.
	svc.feed.Subscribe(a.registry.OnChange)
	authz, err := access.NewAuthorizer(a.db, svc.feed, a.logger)
	if err != nil {
		return identityParts{}, err
	}
	if err := authz.Seed(ctx); err != nil {
		return identityParts{}, err
	}
	sealer, err := newSealer(a)
	if err != nil {
		return identityParts{}, err
	}
	keyring, err := accounts.LoadKeyring(ctx, a.db, accounts.KeyringConfig{Secret: a.cfg.Auth.JWTSecret.Reveal(), Sealer: sealer})
	if err != nil {
		return identityParts{}, err
	}
	keyring.Follow(svc.feed, a.logger)
	if err := bootstrapAdmin(ctx, a, svc.users, out); err != nil {
		return identityParts{}, err
	}
	ssoStore, err := newSSOStore(ctx, a, svc.users, sealer)
	if err != nil {
		return identityParts{}, err
	}
	sessions := accounts.NewSessions(a.db, svc.users, keyring, accounts.SessionConfig{PasswordGate: ssoStore.PasswordGate}, a.logger)
	ssoSvc := sso.NewService(a.db, ssoStore, svc.users, sessions, sso.Config{AllowPrivate: a.cfg.OIDC.AllowPrivate}, a.logger)
	keyAuth := apikeys.NewKeyAuthenticator(a.db, svc.feed, apikeys.KeyAuthConfig{CacheSize: a.cfg.Tier.KeyCacheSize}, a.logger)
	// Every stored key's hash, so that unknown keys are refused without a query.
	if err := keyAuth.Preload(ctx); err != nil {
		a.logger.WarnContext(ctx, "loading the known API keys failed; retried on first use", "error", err)
	}
	ident := api.NewIdentity(api.IdentityDeps{Registry: a.registry, Users: svc.users, Sessions: sessions, Keys: svc.keys,
		KeyAuth: keyAuth, Authz: authz, Audit: svc.audit, Feed: svc.feed, SSO: ssoSvc, Logger: a.logger, PublicURL: a.cfg.HTTP.PublicURL})
	return identityParts{
		routes:   []func(*gin.Engine){ident.Register},
		identity: ident,
		keyAuth:  keyAuth,
		sessions: sessions,
		feed:     svc.feed,
		services: svc,
		run: func(ctx context.Context) {
			go svc.feed.Run(ctx)
			keyAuth.RunFlusher(ctx, 0)
		},
	}, nil
}

// bootstrapAdmin creates the platform superadmin on first start.
func bootstrapAdmin(ctx context.Context, a *app, users *accounts.Users, out io.Writer) error {
	in := accounts.BootstrapInput{Email: a.cfg.Auth.AdminEmail, Password: seal.Secret(a.cfg.Auth.AdminPassword.Reveal())}
	if a.cfg.Mode == config.ModeSingleTenant {
		t, err := a.registry.Get(ctx, selfHostTenantName)
		if err != nil {
			return err
		}
		in.OwnerOf = t.ID
	}
	res, err := users.Bootstrap(ctx, in)
	if err != nil {
		return fmt.Errorf("bootstrap admin %s: %w", in.Email, err)
	}
	if res.Created {
		a.logger.InfoContext(ctx, "bootstrap admin created", "email", res.User.Email, "password_generated", res.GeneratedPassword != "")
		// Hashing the password took argon2's 64 MiB, garbage now: hand it back to
		// the OS before serving, or a first start idles ~70 MB above a restart.
		debug.FreeOSMemory()
	}
	if res.GeneratedPassword != "" {
		fmt.Fprintf(out, "\n"+
			"================================================================\n"+
			"  Tollgate bootstrap admin (shown ONCE; store it now)\n"+
			"    email:    %s\n"+
			"    password: %s\n"+
			"  Set TOLLGATE_ADMIN_PASSWORD to choose it yourself next time.\n"+
			"================================================================\n\n",
			res.User.Email, res.GeneratedPassword.Reveal())
	}
	return nil
}

// newSSOStore builds the single sign-on settings store: in self-host mode with
// TOLLGATE_OIDC_ISSUER set, the one provider of the environment, bound to the
// self-host tenant; otherwise the tenants' stored settings.
func newSSOStore(ctx context.Context, a *app, users *accounts.Users, sealer *seal.Sealer) (*sso.Store, error) {
	cfg := sso.StoreConfig{Sealer: sealer, AllowInsecure: a.cfg.OIDC.AllowPrivate, EnvOnly: a.cfg.Mode == config.ModeSingleTenant}
	if o := a.cfg.OIDC; o.Issuer != "" && a.cfg.Mode == config.ModeSingleTenant {
		t, err := a.registry.Get(ctx, selfHostTenantName)
		if err != nil {
			return nil, err
		}
		env := &sso.Settings{Tenant: t.ID, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: seal.Secret(o.ClientSecret.Reveal()),
			Domains: o.AllowedDomains, DefaultRole: access.Role(o.DefaultRole), GroupsClaim: o.GroupsClaim, Required: o.Required}
		for _, m := range o.RoleMapping {
			env.Mapping = append(env.Mapping, sso.GroupRole{Group: m.Group, Role: access.Role(m.Role)})
		}
		cfg.Env = env
	}
	return sso.NewStore(a.db, a.registry, users, cfg), nil
}
