package tenants

import (
	"context"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

// PrincipalKind says how a caller was authenticated.
type PrincipalKind string

// Principal kinds.
const (
	PrincipalAPIKey  PrincipalKind = "api_key"
	PrincipalSession PrincipalKind = "session"
	// PrincipalSystem is the CLI or the worker acting for a tenant by operator intent.
	PrincipalSystem PrincipalKind = "system"
)

// Principal is an authenticated caller acting within one tenant. Its fields are
// unexported so that only this package's constructors, called by authentication
// code, can make one: a tenant handle cannot be built from a request body.
type Principal struct {
	tenant Tenant
	kind   PrincipalKind
	// subject is the API key id or user id.
	subject string
}

// Tenant returns the principal's tenant.
func (p Principal) Tenant() Tenant { return p.tenant }

// TenantID returns the principal's tenant id.
func (p Principal) TenantID() ID { return p.tenant.ID }

// Kind returns how the principal authenticated.
func (p Principal) Kind() PrincipalKind { return p.kind }

// Subject returns the key id or user id behind the principal.
func (p Principal) Subject() string { return p.subject }

// NewPrincipal is called by authentication code (API key and session middleware)
// once it has verified the caller belongs to t.
func NewPrincipal(t Tenant, kind PrincipalKind, subject string) Principal {
	return Principal{tenant: t, kind: kind, subject: subject}
}

// SystemPrincipal is for the CLI and the worker, which act on a tenant the operator
// named; reason is recorded in logs.
func SystemPrincipal(t Tenant, reason string) Principal {
	return Principal{tenant: t, kind: PrincipalSystem, subject: "system:" + reason}
}

type principalKey struct{}

// WithPrincipal injects the authenticated principal into ctx. Only the api
// authentication middleware calls it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// WithLoggedPrincipal is WithPrincipal and logging.WithTenantID of p's tenant
// in one context layer: authentication runs on every request, and two value
// layers with their boxed values were four allocations where this is one.
func WithLoggedPrincipal(ctx context.Context, p Principal) context.Context {
	return &principalCtx{Context: ctx, p: p}
}

type principalCtx struct {
	context.Context
	p Principal
}

func (c *principalCtx) Value(key any) any {
	switch key {
	case principalKey{}:
		return &c.p // a pointer boxes without allocating; PrincipalFrom copies it
	case logging.TenantIDKey:
		return string(c.p.tenant.ID)
	}
	return c.Context.Value(key)
}

// PrincipalFrom extracts the principal. Only api handlers call it, once per request;
// services take the tenant as an explicit input field.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	switch p := ctx.Value(principalKey{}).(type) {
	case *Principal:
		return *p, true
	case Principal:
		return p, true
	}
	return Principal{}, false
}
