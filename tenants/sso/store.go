package sso

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// StoreConfig configures the settings store.
type StoreConfig struct {
	// Sealer seals client secrets; nil refuses to store settings (no master key).
	Sealer *seal.Sealer
	// Env, when set, is the one provider of a self-host server (TOLLGATE_OIDC_*):
	// its Tenant is the self-host tenant, it is Platform, and stored settings
	// are then refused.
	Env *Settings
	// EnvOnly (self-host mode) takes the provider from Env only: stored settings
	// are refused, and with no Env there is no single sign-on.
	EnvOnly bool
	// AllowInsecure admits http:// issuers in stored settings (tests).
	AllowInsecure bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store keeps the tenants' single sign-on settings and answers the two
// questions sign-in asks: which provider serves this email, and may this user
// sign in with a password.
type Store struct {
	db       *database.DB
	registry *tenants.Registry
	users    *accounts.Users
	cfg      StoreConfig
}

// NewStore returns the settings store.
func NewStore(db *database.DB, registry *tenants.Registry, users *accounts.Users, cfg StoreConfig) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Env != nil {
		env := *cfg.Env
		env.Platform, env.Enabled = true, true
		if env.GroupsClaim == "" {
			env.GroupsClaim = "groups"
		}
		cfg.Env = &env
	}
	return &Store{db: db, registry: registry, users: users, cfg: cfg}
}

type providerRow struct {
	TenantID           string `gorm:"primaryKey"`
	Issuer             string
	ClientID           string
	ClientSecretSealed string
	RoleMapping        string
	DefaultRole        string
	GroupsClaim        string
	Enabled            bool
	Required           bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (providerRow) TableName() string { return "sso_providers" }

type domainRow struct {
	TenantID string `gorm:"primaryKey"`
	Domain   string `gorm:"primaryKey"`
}

func (domainRow) TableName() string { return "sso_domains" }

func secretAAD(t tenants.ID) []byte { return []byte("tenant:" + string(t) + "/sso:client_secret") }

func errEnvConfigured() error {
	return errkind.New(errkind.Conflict, "single sign-on is configured by the environment (TOLLGATE_OIDC_*) on this server; change it there")
}

// EnvConfigured reports whether the provider comes from the environment, or
// can only come from there (self-host mode).
func (s *Store) EnvConfigured() bool { return s.cfg.Env != nil || s.cfg.EnvOnly }

// Available reports whether anyone can sign in with single sign-on here: a
// provider in the environment, or tenants that may configure their own.
func (s *Store) Available() bool { return s.cfg.Env != nil || !s.cfg.EnvOnly }

// Get returns a tenant's settings with the secret opened; false when it has none.
func (s *Store) Get(ctx context.Context, tenant tenants.ID) (Settings, bool, error) {
	if env := s.cfg.Env; env != nil {
		return *env, env.Tenant == tenant, nil
	}
	if s.cfg.EnvOnly {
		return Settings{Platform: true}, false, nil
	}
	var row providerRow
	err := s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", string(tenant)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Settings{}, false, nil
	}
	if err != nil {
		return Settings{}, false, err
	}
	var domains []string
	if err := s.db.Gorm.WithContext(ctx).Model(&domainRow{}).Where("tenant_id = ?", string(tenant)).Order("domain").Pluck("domain", &domains).Error; err != nil {
		return Settings{}, false, err
	}
	out := Settings{Tenant: tenant, Issuer: row.Issuer, ClientID: row.ClientID, Domains: domains, DefaultRole: access.Role(row.DefaultRole),
		GroupsClaim: row.GroupsClaim, Enabled: row.Enabled, Required: row.Required, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(row.RoleMapping), &out.Mapping); err != nil {
		return Settings{}, false, err
	}
	if row.ClientSecretSealed != "" {
		if s.cfg.Sealer == nil {
			return Settings{}, false, errkind.New(errkind.Unavailable, "the single sign-on client secret is sealed but no TOLLGATE_MASTER_KEY is set")
		}
		sec, err := s.cfg.Sealer.OpenString(row.ClientSecretSealed, secretAAD(tenant))
		if err != nil {
			return Settings{}, false, errkind.Wrap(errkind.Unavailable, err, "the single sign-on client secret cannot be opened (was TOLLGATE_MASTER_KEY changed?); set it again")
		}
		out.ClientSecret = sec
	}
	return out, true, nil
}

// Set replaces a tenant's settings; an empty ClientSecret keeps the stored one.
func (s *Store) Set(ctx context.Context, in SetInput) (Settings, error) {
	if s.EnvConfigured() {
		return Settings{}, errEnvConfigured()
	}
	in.AllowInsecure = in.AllowInsecure || s.cfg.AllowInsecure
	in.normalize()
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	if s.cfg.Sealer == nil {
		return Settings{}, errkind.New(errkind.Unavailable, "set TOLLGATE_MASTER_KEY (32+ bytes) first: the client secret is stored encrypted under it")
	}
	mapping := in.Mapping
	if mapping == nil {
		mapping = []GroupRole{}
	}
	mj, err := json.Marshal(mapping)
	if err != nil {
		return Settings{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old providerRow
		err := tx.Where("tenant_id = ?", string(in.Tenant)).Take(&old).Error
		exists := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		row := providerRow{TenantID: string(in.Tenant), Issuer: in.Issuer, ClientID: in.ClientID, RoleMapping: string(mj),
			DefaultRole: string(in.DefaultRole), GroupsClaim: in.GroupsClaim, Enabled: in.Enabled, Required: in.Required, CreatedAt: now, UpdatedAt: now}
		switch {
		case in.ClientSecret != "":
			if row.ClientSecretSealed, err = s.cfg.Sealer.SealString(in.ClientSecret, secretAAD(in.Tenant)); err != nil {
				return err
			}
		case exists && old.ClientSecretSealed != "":
			row.ClientSecretSealed = old.ClientSecretSealed
		default:
			return errkind.New(errkind.Invalid, "client_secret is required: the provider gives it with the client id")
		}
		if exists {
			row.CreatedAt = old.CreatedAt
			if err := tx.Save(&row).Error; err != nil {
				return err
			}
		} else if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Where("tenant_id = ?", string(in.Tenant)).Delete(&domainRow{}).Error; err != nil {
			return err
		}
		for _, d := range in.Domains {
			if err := tx.Create(&domainRow{TenantID: string(in.Tenant), Domain: d}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	out, _, err := s.Get(ctx, in.Tenant)
	return out, err
}

// Delete removes a tenant's settings; NotFound when it has none.
func (s *Store) Delete(ctx context.Context, tenant tenants.ID) error {
	if s.EnvConfigured() {
		return errEnvConfigured()
	}
	res := s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", string(tenant)).Delete(&providerRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errkind.New(errkind.NotFound, "this tenant has no single sign-on settings")
	}
	return s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", string(tenant)).Delete(&domainRow{}).Error
}

// Discover finds the provider that signs in email: the tenant named by
// tenantRef (id or slug) when given, else the one tenant whose enabled
// provider allows the email's domain. Unknown, ambiguous, disabled and
// outside-the-domains are refused with what to do.
func (s *Store) Discover(ctx context.Context, email, tenantRef string) (Settings, error) {
	domain := emailDomain(email)
	if domain == "" {
		return Settings{}, errkind.New(errkind.Invalid, "enter your work email address, like name@example.com")
	}
	noSSO := &errkind.Error{Kind: errkind.NotFound, Code: "sso_not_configured",
		Message: "single sign-on is not set up for " + domain + "; sign in with your password, or ask your administrator"}
	if !s.Available() {
		return Settings{}, noSSO
	}
	var tenant tenants.ID
	if tenantRef != "" {
		t, err := s.registry.Get(ctx, tenantRef)
		if err != nil {
			return Settings{}, noSSO
		}
		tenant = t.ID
	} else if s.cfg.Env != nil {
		tenant = s.cfg.Env.Tenant
	} else {
		var ids []string
		err := s.db.Gorm.WithContext(ctx).Table("sso_domains d").Joins("JOIN sso_providers p ON p.tenant_id = d.tenant_id").
			Where("d.domain = ? AND p.enabled = ?", domain, true).Order("d.tenant_id").Pluck("d.tenant_id", &ids).Error
		if err != nil {
			return Settings{}, err
		}
		switch len(ids) {
		case 0:
			return Settings{}, noSSO
		case 1:
			tenant = tenants.ID(ids[0])
		default:
			return Settings{}, &errkind.Error{Kind: errkind.Conflict, Code: "sso_ambiguous",
				Message: "several organisations sign in people at " + domain + "; enter your tenant's name (slug) too"}
		}
	}
	st, ok, err := s.Get(ctx, tenant)
	if err != nil {
		return Settings{}, err
	}
	if !ok || !st.Enabled || !st.allows(email) {
		return Settings{}, noSSO
	}
	return st, nil
}

// PasswordGate refuses a password sign-in (Forbidden, code sso_required) when
// any tenant the user belongs to requires single sign-on. Superadmins pass.
func (s *Store) PasswordGate(ctx context.Context, u accounts.User) error {
	ids, err := s.users.NonSuperadminMemberOf(ctx, u)
	if err != nil || len(ids) == 0 {
		return err
	}
	required := false
	if env := s.cfg.Env; env != nil {
		required = env.Required
	} else if !s.cfg.EnvOnly {
		strs := make([]string, len(ids))
		for i, id := range ids {
			strs[i] = string(id)
		}
		var n int64
		if err := s.db.Gorm.WithContext(ctx).Model(&providerRow{}).Where("tenant_id IN ? AND enabled = ? AND required = ?", strs, true, true).Count(&n).Error; err != nil {
			return err
		}
		required = n > 0
	}
	if required {
		return &errkind.Error{Kind: errkind.Forbidden, Code: "sso_required",
			Message: "your organisation requires single sign-on: use \"Sign in with SSO\" with your work email"}
	}
	return nil
}
