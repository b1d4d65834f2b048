// Package sso signs people in to the console through their organisation's
// OpenID Connect provider: each tenant's provider settings (client secret
// sealed with the master key, allowed email domains, group-to-role mapping,
// "single sign-on required"), or in self-host mode one provider configured by
// environment; tenant discovery from an email's domain; and the authorization
// code flow with PKCE, state and nonce, ending in the same session a password
// sign-in gets, confined to the provider's tenant.
package sso

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// GroupRole maps one group of the provider's groups claim to a tenant role.
type GroupRole struct {
	Group string      `json:"group"`
	Role  access.Role `json:"role"`
}

// Settings are a tenant's identity provider.
type Settings struct {
	Tenant tenants.ID
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer   string
	ClientID string
	// ClientSecret is the opened secret; it leaves the process only toward the
	// provider's token endpoint, never in an API answer or a log.
	ClientSecret seal.Secret
	// Domains are the lowercase email domains the provider may sign in.
	Domains []string
	// Mapping gives a new member the most powerful role among their groups'.
	Mapping []GroupRole
	// DefaultRole is the role of a new member none of whose groups is mapped;
	// empty refuses such a person.
	DefaultRole access.Role
	// GroupsClaim names the ID-token claim holding the groups; default "groups".
	GroupsClaim string
	// Enabled lets members sign in through the provider.
	Enabled bool
	// Required turns off password sign-in for the tenant's members (superadmins
	// excepted, so no tenant can lock the operator out).
	Required bool
	// Platform is true for the provider configured by environment in self-host
	// mode: the operator's own, trusted like the operator.
	Platform  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SetInput replaces a tenant's single sign-on settings.
type SetInput struct {
	Tenant   tenants.ID
	Issuer   string
	ClientID string
	// ClientSecret empty keeps the stored secret (required when none is stored).
	ClientSecret seal.Secret
	Domains      []string
	Mapping      []GroupRole
	DefaultRole  access.Role
	GroupsClaim  string
	Enabled      bool
	Required     bool
	// MayGrantOwner says the caller may manage owners; without it neither the
	// mapping nor the default role may give the owner role.
	MayGrantOwner bool
	// AllowInsecure admits an http:// issuer (tests, loopback providers).
	AllowInsecure bool
}

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// normalize trims and lowercases what is compared later.
func (in *SetInput) normalize() {
	in.Issuer = strings.TrimSpace(in.Issuer) // exact: go-oidc compares it with the discovery document
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.GroupsClaim = strings.TrimSpace(in.GroupsClaim)
	if in.GroupsClaim == "" {
		in.GroupsClaim = "groups"
	}
	ds := make([]string, 0, len(in.Domains))
	for _, d := range in.Domains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(d), "@")))
		if d != "" && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	in.Domains = ds
	for i := range in.Mapping {
		in.Mapping[i].Group = strings.TrimSpace(in.Mapping[i].Group)
	}
}

// Validate reports every problem with the input.
func (in SetInput) Validate() error {
	var errs []error
	if !in.Tenant.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	if err := validateIssuer(in.Issuer, in.AllowInsecure); err != nil {
		errs = append(errs, err)
	}
	if in.ClientID == "" || len(in.ClientID) > 255 {
		errs = append(errs, errors.New("client_id is required (at most 255 characters)"))
	}
	if len(in.ClientSecret) > 1024 {
		errs = append(errs, errors.New("client_secret must be at most 1024 characters"))
	}
	if len(in.Domains) == 0 || len(in.Domains) > 50 {
		errs = append(errs, errors.New("allowed_domains needs 1 to 50 email domains like example.com"))
	}
	for _, d := range in.Domains {
		if len(d) > 253 || !domainPattern.MatchString(d) {
			errs = append(errs, fmt.Errorf("allowed_domains: %q is not a domain like example.com", d))
		}
	}
	if len(in.Mapping) > 100 {
		errs = append(errs, errors.New("role_mapping may have at most 100 entries"))
	}
	for i, m := range in.Mapping {
		if m.Group == "" || len(m.Group) > 256 {
			errs = append(errs, fmt.Errorf("role_mapping[%d].group is required (at most 256 characters)", i))
		}
		if !m.Role.Valid() {
			errs = append(errs, fmt.Errorf("role_mapping[%d].role must be one of owner, admin, developer, viewer, billing", i))
		}
	}
	if in.DefaultRole != "" && !in.DefaultRole.Valid() {
		errs = append(errs, errors.New("default_role must be empty or one of owner, admin, developer, viewer, billing"))
	}
	if len(in.GroupsClaim) > 100 {
		errs = append(errs, errors.New("groups_claim must be at most 100 characters"))
	}
	if err := errkind.JoinInvalid("invalid single sign-on settings", errs); err != nil {
		return err
	}
	if !in.MayGrantOwner && (in.DefaultRole == access.RoleOwner || slices.ContainsFunc(in.Mapping, func(m GroupRole) bool { return m.Role == access.RoleOwner })) {
		return errkind.New(errkind.Forbidden, "only an owner may map a group (or the default role) to owner")
	}
	return nil
}

func validateIssuer(issuer string, allowInsecure bool) error {
	u, err := url.Parse(issuer)
	if issuer == "" || err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(issuer) > 512 {
		return errors.New("issuer must be the provider's issuer URL, like https://login.example.com")
	}
	if u.Scheme != "https" && !(allowInsecure && u.Scheme == "http") {
		return errors.New("issuer must use https")
	}
	return nil
}

// roleFor is the role groups give: the most powerful mapped one, else the
// default; false when neither gives one.
func (s Settings) roleFor(groups []string) (access.Role, bool) {
	best := -1
	order := access.TenantRoles()
	for _, m := range s.Mapping {
		if !slices.Contains(groups, m.Group) {
			continue
		}
		if i := slices.Index(order, m.Role); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best >= 0 {
		return order[best], true
	}
	return s.DefaultRole, s.DefaultRole.Valid()
}

// allows reports whether email's domain is one of the allowed ones.
func (s Settings) allows(email string) bool {
	return slices.Contains(s.Domains, emailDomain(email))
}

// emailDomain is the lowercase part after the last "@", "" when there is none.
func emailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 || i == len(email)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[i+1:]))
}
