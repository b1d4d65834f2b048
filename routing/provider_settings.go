package routing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// Provider names whose credentials superadmins manage through the admin API.
const (
	ProviderNameOpenAI    = "openai"
	ProviderNameAnthropic = "anthropic"
)

// ManagedProviderNames lists the providers with stored credentials, sorted.
func ManagedProviderNames() []string {
	return []string{ProviderNameAnthropic, ProviderNameOpenAI, OpenRouterProviderName}
}

// defaultBaseURL is the public endpoint a provider uses when no base URL is set.
func defaultBaseURL(name string) string {
	switch name {
	case ProviderNameOpenAI:
		return "https://api.openai.com/v1"
	case ProviderNameAnthropic:
		return "https://api.anthropic.com"
	case OpenRouterProviderName:
		return DefaultOpenRouterBaseURL
	}
	return ""
}

// providerSettingPrefix prefixes the settings rows of stored credentials
// ("provider:openai"); the full key is also the sealed value's AAD, so a value
// copied to another provider's row does not open.
const providerSettingPrefix = "provider:"

// ProviderSource says where a provider's key or base URL comes from.
type ProviderSource string

// Provider sources. A provider's key and base URL always come from the same
// source: the environment's pair (OPENAI_API_KEY with OPENAI_BASE_URL or the
// default) when its key is set there, otherwise the stored pair. A stored base URL
// is never combined with the environment's key, nor the reverse, so nobody can
// send a key they cannot read to an address of their choosing.
const (
	ProviderSourceNone   ProviderSource = ""
	ProviderSourceEnv    ProviderSource = "env"
	ProviderSourceStored ProviderSource = "stored"
)

// ProviderStatus describes one managed provider's effective configuration,
// without its key.
type ProviderStatus struct {
	// Name is the registry name ("openai").
	Name string
	// Enabled is true when a key is set (from either source).
	Enabled bool
	// BaseURL is the effective API root (the public default when none is set).
	BaseURL string
	// BaseURLSource is where BaseURL comes from; none means the default.
	BaseURLSource ProviderSource
	// KeySource is where the effective key comes from; none means no key.
	KeySource ProviderSource
	// Stored is true when a credential row exists for the provider (even when
	// the environment overrides it).
	Stored bool
	// StoredError explains why a stored row cannot be used (wrong master key,
	// no master key); empty when it can.
	StoredError string
	// UpdatedAt is when the stored row last changed; zero when none.
	UpdatedAt time.Time
}

// ProviderSettingsConfig configures ProviderSettings.
type ProviderSettingsConfig struct {
	// Env is the provider configuration from the environment; it wins field by
	// field over stored values.
	Env ProvidersConfig
	// DB is the control-plane database (the settings table).
	DB *gorm.DB
	// Sealer encrypts stored keys; nil means no master key is configured: stored
	// keys can be neither written nor read.
	Sealer *seal.Sealer
	// Registry is swapped to the merged configuration by Reload.
	Registry *Registry
	// Estimator is the token estimator the rebuilt providers use.
	Estimator *Estimator
}

// ProviderSettings merges stored provider credentials with the environment and
// keeps the registry in step: a change through Set or Delete rebuilds the
// registry at once on this instance; Run picks up other instances' changes.
type ProviderSettings struct {
	cfg    ProviderSettingsConfig
	logger *slog.Logger

	mu          sync.Mutex // serializes reloads
	fingerprint string
}

// NewProviderSettings returns the settings service.
func NewProviderSettings(cfg ProviderSettingsConfig, logger *slog.Logger) (*ProviderSettings, error) {
	if logger == nil || cfg.DB == nil || cfg.Registry == nil || cfg.Estimator == nil {
		return nil, errors.New("routing: NewProviderSettings needs a logger, a database, a registry and an estimator")
	}
	return &ProviderSettings{cfg: cfg, logger: logger.With("component", "routing.provider_settings")}, nil
}

type providerSettingRow struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

func (providerSettingRow) TableName() string { return "settings" }

// storedProvider is the JSON in a provider's settings row.
type storedProvider struct {
	// APIKey is the key sealed with the Sealer (base64), AAD = the row key.
	APIKey  string `json:"api_key_sealed,omitempty"`
	BaseURL string `json:"base_url,omitempty"`
}

func (s *ProviderSettings) load(ctx context.Context) ([]providerSettingRow, error) {
	var rows []providerSettingRow
	err := s.cfg.DB.WithContext(ctx).Where("key LIKE ?", providerSettingPrefix+"%").Order("key").Find(&rows).Error
	return rows, err
}

func fingerprint(rows []providerSettingRow) string {
	h := sha256.New()
	for _, r := range rows {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", r.Key, r.Value, r.UpdatedAt.UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// keyConfig returns the ProvidersConfig field of a managed provider.
func (c *ProvidersConfig) keyConfig(name string) *ProviderKeyConfig {
	switch name {
	case ProviderNameOpenAI:
		return &c.OpenAI
	case ProviderNameAnthropic:
		return &c.Anthropic
	case OpenRouterProviderName:
		return &c.OpenRouter
	}
	return nil
}

// merge resolves each provider's key and base URL as a pair (see ProviderSource)
// and reports each provider's status.
func (s *ProviderSettings) merge(rows []providerSettingRow) (ProvidersConfig, []ProviderStatus) {
	eff := s.cfg.Env
	byName := map[string]providerSettingRow{}
	for _, r := range rows {
		byName[strings.TrimPrefix(r.Key, providerSettingPrefix)] = r
	}
	var out []ProviderStatus
	for _, name := range ManagedProviderNames() {
		kc := eff.keyConfig(name)
		st := ProviderStatus{Name: name}
		envKey := kc.APIKey != ""
		if envKey {
			st.KeySource = ProviderSourceEnv
		}
		if row, ok := byName[name]; ok {
			st.Stored, st.UpdatedAt = true, row.UpdatedAt.UTC()
			var sp storedProvider
			key, err := seal.Secret(""), json.Unmarshal([]byte(row.Value), &sp)
			switch {
			case err != nil:
				st.StoredError = "the stored row is not valid JSON"
			case sp.APIKey != "" && s.cfg.Sealer == nil:
				st.StoredError = "a key is stored but TOLLGATE_MASTER_KEY is not set, so it cannot be decrypted"
			case sp.APIKey != "":
				if key, err = s.cfg.Sealer.OpenString(sp.APIKey, []byte(row.Key)); err != nil {
					st.StoredError = "the stored key cannot be decrypted: TOLLGATE_MASTER_KEY differs from the one it was stored with (store it again)"
				}
			}
			if st.StoredError == "" && !envKey && key != "" {
				// The stored pair: its key with its base URL (or the default), never
				// the environment's base URL.
				kc.APIKey, kc.BaseURL, st.KeySource = key, sp.BaseURL, ProviderSourceStored
				if sp.BaseURL != "" {
					st.BaseURLSource = ProviderSourceStored
				}
			}
		}
		if st.KeySource != ProviderSourceStored && kc.BaseURL != "" {
			st.BaseURLSource = ProviderSourceEnv
		}
		st.Enabled = kc.APIKey != ""
		st.BaseURL = kc.BaseURL
		if st.BaseURL == "" {
			st.BaseURL = defaultBaseURL(name)
		}
		out = append(out, st)
	}
	return eff, out
}

// List reports every managed provider's status; keys are never returned.
func (s *ProviderSettings) List(ctx context.Context) ([]ProviderStatus, error) {
	rows, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	_, st := s.merge(rows)
	return st, nil
}

// Effective returns the merged configuration the registry should run with.
func (s *ProviderSettings) Effective(ctx context.Context) (ProvidersConfig, error) {
	rows, err := s.load(ctx)
	if err != nil {
		return ProvidersConfig{}, err
	}
	eff, _ := s.merge(rows)
	return eff, nil
}

// Reload rebuilds the registry from the environment and the stored rows and
// swaps it in. Unusable stored rows are logged and skipped (the provider stays
// as the environment configures it), so a wrong master key never stops serving.
func (s *ProviderSettings) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.load(ctx)
	if err != nil {
		return err
	}
	return s.apply(ctx, rows)
}

func (s *ProviderSettings) apply(ctx context.Context, rows []providerSettingRow) error {
	eff, statuses := s.merge(rows)
	for _, st := range statuses {
		if st.StoredError != "" {
			s.logger.ErrorContext(ctx, "stored provider credential ignored", "provider", st.Name, "error", st.StoredError)
		}
	}
	reg, err := NewRegistryFromConfig(eff, s.cfg.Estimator, s.logger)
	if err != nil {
		return err
	}
	s.cfg.Registry.Replace(reg)
	s.fingerprint = fingerprint(rows)
	return nil
}

// Run reloads the registry whenever the stored rows change (another instance
// saved a credential), checking every interval (0 means 30s), until ctx ends.
func (s *ProviderSettings) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		rows, err := s.load(ctx)
		if err == nil && fingerprint(rows) != s.fingerprint {
			err = s.apply(ctx, rows)
		}
		s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "provider settings refresh failed; keeping the current providers", "error", err)
		}
	}
}

// SetProviderInput stores one provider's credentials.
type SetProviderInput struct {
	// Name is a managed provider ("openai", "anthropic", "openrouter").
	Name string
	// APIKey is the key to store; empty keeps the stored key (a base URL change).
	APIKey seal.Secret
	// BaseURL is the API root; nil keeps the stored one, "" means the provider's
	// public default.
	BaseURL *string
}

// Validate reports every problem, wrapping errkind.Invalid.
func (in SetProviderInput) Validate() error {
	var problems []error
	if len(in.APIKey) > 4096 || strings.ContainsAny(in.APIKey.Reveal(), " \t\r\n") {
		problems = append(problems, errors.New("api_key must be at most 4096 characters without whitespace"))
	}
	if in.BaseURL != nil && *in.BaseURL != "" {
		u, err := url.Parse(*in.BaseURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			problems = append(problems, errors.New("base_url must be an absolute http(s) URL"))
		case u.User != nil:
			problems = append(problems, errors.New("base_url must not carry credentials; send the key as api_key"))
		case u.RawQuery != "" || u.Fragment != "":
			problems = append(problems, errors.New("base_url must not have a query or fragment"))
		}
	}
	return errkind.JoinInvalid("invalid provider settings", problems)
}

// envVarPrefix is the prefix of a provider's environment variables ("OPENAI" for
// OPENAI_API_KEY and OPENAI_BASE_URL).
func envVarPrefix(name string) string { return strings.ToUpper(name) }

func checkManaged(name string) error {
	if !slices.Contains(ManagedProviderNames(), name) {
		return errkind.New(errkind.NotFound, "provider %q has no stored settings; manage one of %s", name,
			strings.Join(ManagedProviderNames(), ", "))
	}
	return nil
}

// Set seals and stores a provider's credentials, then rebuilds the registry so
// this instance uses them at once (unless the environment overrides them).
func (s *ProviderSettings) Set(ctx context.Context, in SetProviderInput) (ProviderStatus, error) {
	if err := checkManaged(in.Name); err != nil {
		return ProviderStatus{}, err
	}
	if err := in.Validate(); err != nil {
		return ProviderStatus{}, err
	}
	if s.cfg.Sealer == nil {
		return ProviderStatus{}, errkind.New(errkind.Unavailable, "set TOLLGATE_MASTER_KEY to store provider credentials (they are encrypted at rest)")
	}
	if in.BaseURL != nil && *in.BaseURL != "" && s.cfg.Env.keyConfig(in.Name).APIKey != "" {
		env := envVarPrefix(in.Name)
		return ProviderStatus{}, errkind.New(errkind.Conflict,
			"%s_API_KEY is set in the server's environment, so %s's base URL comes from %s_BASE_URL (or the default): a key is never sent to a base URL from another source. Set %s_BASE_URL, or unset %s_API_KEY to manage %s here",
			env, in.Name, env, env, env, in.Name)
	}
	key := providerSettingPrefix + in.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev providerSettingRow
	err := s.cfg.DB.WithContext(ctx).Where("key = ?", key).Take(&prev).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return ProviderStatus{}, err
	}
	var old storedProvider
	if err == nil {
		_ = json.Unmarshal([]byte(prev.Value), &old)
	}
	sp := storedProvider{APIKey: old.APIKey, BaseURL: old.BaseURL}
	if in.BaseURL != nil {
		sp.BaseURL = strings.TrimRight(*in.BaseURL, "/")
	}
	if in.APIKey != "" {
		sealed, err := s.cfg.Sealer.SealString(in.APIKey, []byte(key))
		if err != nil {
			return ProviderStatus{}, err
		}
		sp.APIKey = sealed
	}
	if sp.APIKey == "" {
		return ProviderStatus{}, errkind.New(errkind.Invalid, "api_key is required: no key is stored for %s yet", in.Name)
	}
	body, err := json.Marshal(sp)
	if err != nil {
		return ProviderStatus{}, err
	}
	if err := s.cfg.DB.WithContext(ctx).Exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, string(body), time.Now().UTC()).Error; err != nil {
		return ProviderStatus{}, err
	}
	return s.reloadAndStatus(ctx, in.Name)
}

// Delete removes a provider's stored credentials and rebuilds the registry; the
// environment's values, if any, stay in force. NotFound when none are stored.
func (s *ProviderSettings) Delete(ctx context.Context, name string) (ProviderStatus, error) {
	if err := checkManaged(name); err != nil {
		return ProviderStatus{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := s.cfg.DB.WithContext(ctx).Where("key = ?", providerSettingPrefix+name).Delete(&providerSettingRow{})
	if res.Error != nil {
		return ProviderStatus{}, res.Error
	}
	if res.RowsAffected == 0 {
		return ProviderStatus{}, errkind.New(errkind.NotFound, "no stored settings for provider %s", name)
	}
	return s.reloadAndStatus(ctx, name)
}

// reloadAndStatus applies the rows now stored and returns name's status; the
// caller holds s.mu.
func (s *ProviderSettings) reloadAndStatus(ctx context.Context, name string) (ProviderStatus, error) {
	rows, err := s.load(ctx)
	if err != nil {
		return ProviderStatus{}, err
	}
	if err := s.apply(ctx, rows); err != nil {
		return ProviderStatus{}, err
	}
	_, statuses := s.merge(rows)
	for _, st := range statuses {
		if st.Name == name {
			return st, nil
		}
	}
	return ProviderStatus{}, errkind.New(errkind.NotFound, "provider %s", name)
}
