package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// providerDTO is a provider's effective configuration. The key itself is never
// returned: only whether one is set and where it comes from.
type providerDTO struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	BaseURL string `json:"base_url"`
	// BaseURLSource is "env", "stored" or "default".
	BaseURLSource string `json:"base_url_source"`
	KeySet        bool   `json:"key_set"`
	// KeySource is "env", "stored" or "" (no key).
	KeySource string `json:"key_source"`
	// Stored is true when credentials are stored for it (the environment may
	// override them); StoredError says why they cannot be used.
	Stored      bool       `json:"stored"`
	StoredError string     `json:"stored_error,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at"`
	// Applied says when a change takes effect: "now" on this instance, other
	// instances within 30 s.
	Applied string `json:"applied,omitempty"`
}

// providersAPI serves the platform's stored provider credentials (superadmin).
type providersAPI struct {
	// settings is nil when provider settings are disabled (503).
	settings *routing.ProviderSettings
	audit    auditor
}

func (a *providersAPI) register(r adminRoutes) {
	e, id := r.engine, r.id
	e.GET("/api/v1/providers", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.listProviders))
	e.PUT("/api/v1/providers/:name", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.setProvider))
	e.DELETE("/api/v1/providers/:name", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.deleteProvider))
}

func mapProvider(st routing.ProviderStatus) providerDTO {
	out := providerDTO{Name: st.Name, Enabled: st.Enabled, BaseURL: st.BaseURL, BaseURLSource: string(st.BaseURLSource),
		KeySet: st.KeySource != routing.ProviderSourceNone, KeySource: string(st.KeySource), Stored: st.Stored, StoredError: st.StoredError}
	if out.BaseURLSource == "" {
		out.BaseURLSource = "default"
	}
	if !st.UpdatedAt.IsZero() {
		u := st.UpdatedAt.UTC()
		out.UpdatedAt = &u
	}
	return out
}

func (a *providersAPI) providerSettings() (*routing.ProviderSettings, error) {
	if a.settings == nil {
		return nil, errkind.New(errkind.Unavailable, "provider settings are not available on this server")
	}
	return a.settings, nil
}

// listProviders: GET /api/v1/providers (superadmin).
func (a *providersAPI) listProviders(c *gin.Context) error {
	ps, err := a.providerSettings()
	if err != nil {
		return err
	}
	sts, err := ps.List(c.Request.Context())
	if err != nil {
		return err
	}
	out := listResponse[providerDTO]{Data: []providerDTO{}}
	for _, st := range sts {
		out.Data = append(out.Data, mapProvider(st))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type setProviderRequest struct {
	// APIKey is plain text here only; it is sealed before it is stored. Omitted or
	// empty keeps the stored key.
	APIKey string `json:"api_key"`
	// BaseURL omitted keeps the stored one; "" resets it to the public default.
	BaseURL *string `json:"base_url"`
}

// setProvider: PUT /api/v1/providers/{name} {api_key, base_url} (superadmin). The
// key is sealed (AES-GCM under TOLLGATE_MASTER_KEY) into settings and this
// instance's providers are rebuilt at once. A key set in the environment still
// wins, with the environment's base URL: storing a base URL for such a provider
// is refused (409), so the environment's key never goes to a stored address.
func (a *providersAPI) setProvider(c *gin.Context) error {
	ps, err := a.providerSettings()
	if err != nil {
		return err
	}
	var req setProviderRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	name := c.Param("name")
	st, err := ps.Set(c.Request.Context(), routing.SetProviderInput{Name: name, APIKey: seal.Secret(req.APIKey), BaseURL: req.BaseURL})
	if err != nil {
		return err
	}
	a.audit.record(c, "", "provider.set", name, map[string]any{"base_url": st.BaseURL, "key_changed": req.APIKey != ""})
	dto := mapProvider(st)
	dto.Applied = "now on this instance; other instances within 30 s"
	c.JSON(http.StatusOK, dto)
	return nil
}

// deleteProvider: DELETE /api/v1/providers/{name} (superadmin): forget the stored
// credentials; environment values, if any, stay in force. 404 when none are stored.
func (a *providersAPI) deleteProvider(c *gin.Context) error {
	ps, err := a.providerSettings()
	if err != nil {
		return err
	}
	name := c.Param("name")
	st, err := ps.Delete(c.Request.Context(), name)
	if err != nil {
		return err
	}
	a.audit.record(c, "", "provider.delete", name, nil)
	dto := mapProvider(st)
	dto.Applied = "now on this instance; other instances within 30 s"
	c.JSON(http.StatusOK, dto)
	return nil
}
