package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

type keyDTO struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	Models     []string   `json:"models"`
	RPMLimit   int64      `json:"rpm_limit"`
	TPMLimit   int64      `json:"tpm_limit"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func mapKey(k apikeys.APIKey) keyDTO {
	return keyDTO{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, Models: k.Models, RPMLimit: k.RPMLimit, TPMLimit: k.TPMLimit,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

type keyWithSecretDTO struct {
	Key keyDTO `json:"key"`
	// Secret is the full key, shown once.
	Secret string `json:"secret"`
}

// listKeys: GET /api/v1/tenants/{tenant}/keys?limit=&cursor=&q=.
func (id *Identity) listKeys(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	page, err := id.d.Keys.List(c.Request.Context(), apikeys.ListKeysInput{TenantID: p.TenantID(), Limit: limit,
		Cursor: c.Query("cursor"), Query: c.Query("q")})
	if err != nil {
		return err
	}
	out := listResponse[keyDTO]{Data: make([]keyDTO, len(page.Keys)), NextCursor: page.NextCursor}
	for i, k := range page.Keys {
		out.Data[i] = mapKey(k)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// queryLimit parses ?limit=; absent is 0 (the default page size).
func queryLimit(c *gin.Context) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, errkind.New(errkind.Invalid, "limit must be a number between 1 and 200")
	}
	return n, nil
}

type createKeyRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Models    []string   `json:"models"`
	ExpiresAt *time.Time `json:"expires_at"`
	RPMLimit  *int64     `json:"rpm_limit"`
	TPMLimit  *int64     `json:"tpm_limit"`
}

// createKey: POST /api/v1/tenants/{tenant}/keys. The secret is in this answer only.
func (id *Identity) createKey(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req createKeyRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := apikeys.CreateKeyInput{TenantID: p.TenantID(), Name: req.Name, Scopes: req.Scopes, Models: req.Models,
		ExpiresAt: req.ExpiresAt, Actor: actor(c)}
	if req.RPMLimit != nil {
		in.RPMLimit = *req.RPMLimit
	}
	if req.TPMLimit != nil {
		in.TPMLimit = *req.TPMLimit
	}
	k, secret, err := id.d.Keys.Create(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, keyWithSecretDTO{Key: mapKey(k), Secret: secret.Reveal()})
	return nil
}

// getKey: GET /api/v1/tenants/{tenant}/keys/{key_id}.
func (id *Identity) getKey(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	k, err := id.d.Keys.Get(c.Request.Context(), p.TenantID(), c.Param("key_id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapKey(k))
	return nil
}

// revokeKey: POST /api/v1/tenants/{tenant}/keys/{key_id}/revoke.
func (id *Identity) revokeKey(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	k, err := id.d.Keys.Revoke(c.Request.Context(), apikeys.RevokeKeyInput{TenantID: p.TenantID(), KeyID: c.Param("key_id"), Actor: actor(c)})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapKey(k))
	return nil
}

type rotateKeyRequest struct {
	// GraceSeconds is how long the old key keeps working; absent means 86400 (24h).
	GraceSeconds *int64 `json:"grace_seconds"`
}

// rotateKey: POST /api/v1/tenants/{tenant}/keys/{key_id}/rotate. The body is
// optional.
func (id *Identity) rotateKey(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req rotateKeyRequest
	if c.Request.ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	hd, err := id.d.Registry.Handle(p)
	if err != nil {
		return err
	}
	in := apikeys.RotateKeyInput{TenantID: p.TenantID(), KeyID: c.Param("key_id"), Actor: actor(c),
		CarryOver: func(ctx context.Context, old, successor apikeys.APIKey) error {
			return budget.CarryToSuccessor(ctx, hd, old.ID, successor.ID)
		}}
	if req.GraceSeconds != nil {
		if *req.GraceSeconds < 0 || *req.GraceSeconds > 30*24*3600 {
			return errkind.New(errkind.Invalid, "grace_seconds must be between 0 and 2592000 (30 days)")
		}
		g := time.Duration(*req.GraceSeconds) * time.Second
		in.Grace = &g
	}
	k, secret, err := id.d.Keys.Rotate(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, keyWithSecretDTO{Key: mapKey(k), Secret: secret.Reveal()})
	return nil
}
