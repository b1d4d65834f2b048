package apikeys

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Key scopes. A key may call what its scopes allow, nothing else.
const (
	// ScopeInference allows the OpenAI-compatible API (/v1: chat, embeddings, models).
	ScopeInference = "inference"
	// ScopeReadUsage allows the read-only usage endpoints of the key's own tenant.
	ScopeReadUsage = "read:usage"
)

// KnownScopes lists every scope a key may carry.
func KnownScopes() []string { return []string{ScopeInference, ScopeReadUsage} }

// APIKeyPrefix starts every API key, so leaked keys are recognisable by scanners.
const APIKeyPrefix = "tg_"

const (
	// apiKeyRandomBytes is the key's entropy: 256 bits.
	apiKeyRandomBytes = 32
	// apiKeyBodyLen is the base62 length of 32 random bytes.
	apiKeyBodyLen = 43
	// APIKeyLen is the full length of a key: "tg_" + 43 base62 characters.
	APIKeyLen = len(APIKeyPrefix) + apiKeyBodyLen
	// displayPrefixLen is how much of the key (after tg_) is stored in clear for lists.
	displayPrefixLen = 8
)

// APIKey is a tenant's API key as stored: its secret exists only as a hash.
type APIKey struct {
	ID       string
	TenantID tenants.ID
	Name     string
	// Prefix is "tg_" plus the first 8 characters, shown in lists to recognise a key.
	Prefix string
	Scopes []string
	// Models is the model allowlist; empty allows every model.
	Models []string
	// RPMLimit is requests per minute; 0 means no limit.
	RPMLimit int64
	// TPMLimit is tokens per minute; 0 means no limit.
	TPMLimit   int64
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// AuthenticatedKey is what the /v1 handlers learn about the key of a request.
type AuthenticatedKey struct {
	ID     string
	Name   string
	Prefix string
	// Tenant is the key's tenant, active at authentication time.
	Tenant tenants.Tenant
	Scopes []string
	// Models is the model allowlist; empty allows every model.
	Models []string
	// RPMLimit is requests per minute; 0 means no limit.
	RPMLimit int64
	// TPMLimit is tokens per minute; 0 means no limit.
	TPMLimit int64
	// CreatedBy is the user who created the key ("" for the CLI): the member whose
	// per-member budget the key's requests count against.
	CreatedBy string
	// ExpiresAt is nil for a key that never expires (a rotated key expires after its
	// grace period).
	ExpiresAt *time.Time
}

// HasScope reports whether the key carries scope.
func (k AuthenticatedKey) HasScope(scope string) bool { return slices.Contains(k.Scopes, scope) }

// AllowsModel reports whether the key may use model (an empty allowlist allows all).
func (k AuthenticatedKey) AllowsModel(model string) bool {
	return len(k.Models) == 0 || slices.Contains(k.Models, model)
}

// apiKeyRow is the api_keys row.
type apiKeyRow struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	Name       string
	Prefix     string
	Hash       string
	Scopes     string
	Models     string
	RPMLimit   int64 `gorm:"column:rpm_limit"`
	TPMLimit   int64 `gorm:"column:tpm_limit"`
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func mapAPIKey(r apiKeyRow) APIKey {
	return APIKey{ID: r.ID, TenantID: tenants.ID(r.TenantID), Name: r.Name, Prefix: r.Prefix, Scopes: decodeList(r.Scopes),
		Models: decodeList(r.Models), RPMLimit: r.RPMLimit, TPMLimit: r.TPMLimit, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: utcPtr(r.ExpiresAt), RevokedAt: utcPtr(r.RevokedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

func encodeList(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

func decodeList(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// newAPIKeySecret returns a fresh key, its stored hash and its display prefix.
func newAPIKeySecret() (secret seal.Secret, hash, prefix string, err error) {
	body, err := seal.RandomBase62(apiKeyRandomBytes)
	if err != nil {
		return "", "", "", err
	}
	s := APIKeyPrefix + body
	return seal.Secret(s), seal.SHA256Hex(s), APIKeyPrefix + body[:displayPrefixLen], nil
}

// LooksLikeAPIKey reports whether s has the shape of a Tollgate API key, so garbage
// is refused without touching a cache or the database.
func LooksLikeAPIKey(s string) bool {
	return len(s) == APIKeyLen && strings.HasPrefix(s, APIKeyPrefix) && seal.IsBase62(s[len(APIKeyPrefix):])
}
