package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// RequireAPIKey authenticates /v1 requests by "Authorization: Bearer tg_..." or
// "x-api-key: tg_..." (Anthropic's clients). It
// refuses a missing, malformed, unknown, revoked or expired key with 401
// (invalid_api_key), a key of a suspended tenant with 403, and a key without scope
// with 403 (scope "" requires none). On success the request context carries the
// tenant principal (tenants.PrincipalFrom) and KeyFrom returns the key.
//
// A cached key costs about a microsecond; see BenchmarkRequireAPIKey.
func RequireAPIKey(auth *apikeys.KeyAuthenticator, scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if authenticateKey(c, auth, scope) {
			c.Next()
		}
	}
}

// authenticateKey is RequireAPIKey's check; false means it wrote the refusal.
// It is apart from the middleware so that what it works with takes no room in
// the middleware's frame, which stays on the stack while a stream is relayed.
func authenticateKey(c *gin.Context, auth *apikeys.KeyAuthenticator, scope string) bool {
	tok, err := apiKeyToken(c)
	if err != nil {
		writeError(c, err)
		return false
	}
	// Invalid keys count against the client's address alone (behind
	// TOLLGATE_TRUSTED_PROXIES, the forwarded one): 401, then 429 for that
	// address; valid keys are never throttled by others' misses.
	k, err := auth.AuthenticateFor(c.Request.Context(), tok, c)
	if err != nil {
		writeError(c, err)
		return false
	}
	// Set before the scope check: a 403 of a known key is recorded as a
	// refusal of its tenant (recordRefusals).
	c.Set(apiKeyKey, k)
	if scope != "" && !k.HasScope(scope) {
		writeError(c, errkind.New(errkind.Forbidden, "this API key lacks the %q scope", scope))
		return false
	}
	ctx := tenants.WithLoggedPrincipal(c.Request.Context(), tenants.NewPrincipal(k.Tenant, tenants.PrincipalAPIKey, k.ID))
	c.Request = c.Request.WithContext(ctx)
	return true
}

// errMissingKey is preallocated: refusing an anonymous flood allocates nothing.
var errMissingKey error = &errkind.Error{Kind: errkind.Unauthenticated, Code: "invalid_api_key",
	Message: "missing API key: send Authorization: Bearer tg_... (or x-api-key: tg_..., as Anthropic's clients do)"}

// HeaderAPIKey is the header Anthropic's clients send their key in.
const HeaderAPIKey = "x-api-key"

// apiKeyToken reads the tenant key from Authorization: Bearer or, as
// Anthropic's clients send it, x-api-key. When both are sent they must agree:
// two different keys would leave it unclear whose budget pays.
func apiKeyToken(c *gin.Context) (string, error) {
	tok, ok := bearer(c)
	alt := strings.TrimSpace(c.Request.Header.Get(canonAPIKey))
	switch {
	case !ok && alt == "":
		return "", errMissingKey
	case !ok:
		return alt, nil
	case alt != "" && alt != tok:
		return "", &errkind.Error{Kind: errkind.Unauthenticated, Code: "invalid_api_key",
			Message: "Authorization and x-api-key carry different keys; send one key"}
	}
	return tok, nil
}

// KeyFrom returns the API key RequireAPIKey authenticated for this request: its id,
// name, scopes, model allowlist, rpm/tpm limits and tenant.
func KeyFrom(c *gin.Context) (apikeys.AuthenticatedKey, bool) {
	k, ok := keyOf(c)
	if !ok {
		return apikeys.AuthenticatedKey{}, false
	}
	return *k, true
}
