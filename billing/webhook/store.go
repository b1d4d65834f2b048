// Package webhook is a tenant's alert webhook: the stored endpoint and its sealed
// signing secret, the URL and address checks (when it is saved, and again on
// every address dialled), the signature, the delivery request and the guarded
// HTTP client. The API's test send and the worker's alert delivery both post
// through it, so the two are the same bytes to the receiver.
package webhook

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Webhook is a tenant's alert endpoint. A tenant has at most one.
type Webhook struct {
	ID  string
	URL string
	// Secret signs deliveries (X-Tollgate-Signature). It never prints.
	Secret    seal.Secret
	CreatedAt time.Time
}

type webhookRow struct {
	ID        string `gorm:"primaryKey"`
	URL       string
	SecretEnc string
	CreatedAt time.Time
}

func (webhookRow) TableName() string { return "webhooks" }

// webhookAAD binds a sealed webhook secret to its tenant and row, so a secret
// copied to another tenant's row does not open.
func webhookAAD(tenantID tenants.ID, webhookID string) []byte {
	return []byte("tenant:" + string(tenantID) + "/webhook:" + webhookID)
}

// SetInput is a tenant's new alert endpoint.
type SetInput struct {
	// URL receives the POSTs; http or https.
	URL string
	// Secret signs deliveries; at least 16 characters.
	Secret seal.Secret
}

// Validate reports every problem with the input as an errkind.Invalid error.
func (in SetInput) Validate() error {
	var errs []error
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("url: want an http(s) URL"))
	}
	if len(in.Secret) < 16 {
		errs = append(errs, errors.New("secret: at least 16 characters"))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid webhook: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// Set replaces the tenant's webhook, sealing its secret with AES-GCM
// (seal.Sealer) bound to tenant and row. Addresses are checked again at
// delivery time, on the resolved IP.
func Set(ctx context.Context, h *tenants.Handle, sealer *seal.Sealer, in SetInput) (Webhook, error) {
	if err := in.Validate(); err != nil {
		return Webhook{}, err
	}
	if sealer == nil {
		return Webhook{}, errkind.New(errkind.Unavailable, "webhook secrets need TOLLGATE_MASTER_KEY")
	}
	id := "whk_" + strings.ToLower(ulid.Make().String())
	enc, err := sealer.SealString(in.Secret, webhookAAD(h.TenantID(), id))
	if err != nil {
		return Webhook{}, err
	}
	row := webhookRow{ID: id, URL: in.URL, SecretEnc: enc, CreatedAt: time.Now().UTC()}
	err = h.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("1 = 1").Delete(&webhookRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	return Webhook{ID: id, URL: in.URL, Secret: in.Secret, CreatedAt: row.CreatedAt}, err
}

// Load returns the tenant's webhook with its secret opened, or NotFound.
func Load(ctx context.Context, h *tenants.Handle, sealer *seal.Sealer) (Webhook, error) {
	var row webhookRow
	err := h.Read(ctx, func(db *gorm.DB) error { return db.Order("created_at DESC").Take(&row).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Webhook{}, errkind.New(errkind.NotFound, "no webhook configured")
	}
	if err != nil {
		return Webhook{}, err
	}
	w := Webhook{ID: row.ID, URL: row.URL, CreatedAt: row.CreatedAt}
	if row.SecretEnc == "" {
		return w, nil
	}
	if sealer == nil {
		return w, errkind.New(errkind.Unavailable, "cannot open the webhook secret: TOLLGATE_MASTER_KEY is not set")
	}
	if w.Secret, err = sealer.OpenString(row.SecretEnc, webhookAAD(h.TenantID(), row.ID)); err != nil {
		return w, errkind.Wrap(errkind.Invalid, err, "cannot open the webhook secret (master key changed?)")
	}
	return w, nil
}
