// Package apikeys owns API keys: creation, listing, rotation and revocation, and
// their authentication on the request path (cache, known-key filter, per-address
// miss limiter, batched last-used updates).
package apikeys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// DefaultRotationGrace is how long a rotated key keeps working, so clients can
// switch to the new key without downtime.
const DefaultRotationGrace = 24 * time.Hour

// Keys creates, lists, revokes and rotates tenant API keys. Every change that can
// refuse a key (revoke, rotate) announces itself on the change feed inside its
// transaction, so every instance's key cache drops it within a second.
type Keys struct {
	db     *database.DB
	feed   *tenants.ChangeFeed
	logger *slog.Logger
}

// NewKeys returns the key service.
func NewKeys(db *database.DB, feed *tenants.ChangeFeed, logger *slog.Logger) *Keys {
	return &Keys{db: db, feed: feed, logger: logger.With("component", "tenants.keys")}
}

// CreateKeyInput creates a key.
type CreateKeyInput struct {
	TenantID tenants.ID
	// Name says what the key is for ("ci", "chatbot prod"); 1..100 characters.
	Name string
	// Scopes default to ["inference"] when empty.
	Scopes []string
	// Models is the model allowlist; empty allows every model.
	Models []string
	// ExpiresAt is optional and must be in the future.
	ExpiresAt *time.Time
	// RPMLimit is requests per minute; 0 means no limit.
	RPMLimit int64
	// TPMLimit is tokens per minute; 0 means no limit.
	TPMLimit int64
	Actor    audit.Actor
	// Now is the validation clock; zero means time.Now.
	Now time.Time
}

// Validate reports every problem with the input.
func (in CreateKeyInput) Validate() error {
	var errs []error
	if !in.TenantID.Valid() {
		errs = append(errs, errors.New("tenant is required"))
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		errs = append(errs, errors.New("name is required"))
	} else if len(name) > 100 {
		errs = append(errs, errors.New("name must be at most 100 characters"))
	}
	for _, s := range in.Scopes {
		if !slices.Contains(KnownScopes(), s) {
			errs = append(errs, fmt.Errorf("unknown scope %q (use %s)", s, strings.Join(KnownScopes(), ", ")))
		}
	}
	if len(in.Models) > 100 {
		errs = append(errs, errors.New("models lists at most 100 models"))
	}
	for _, m := range in.Models {
		if strings.TrimSpace(m) == "" || len(m) > 200 {
			errs = append(errs, fmt.Errorf("model %q is not a model name", m))
		}
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		errs = append(errs, errors.New("expires_at must be in the future"))
	}
	if in.RPMLimit < 0 {
		errs = append(errs, errors.New("rpm_limit must be 0 (no limit) or positive"))
	}
	if in.TPMLimit < 0 {
		errs = append(errs, errors.New("tpm_limit must be 0 (no limit) or positive"))
	}
	return errkind.JoinInvalid("invalid API key", errs)
}

// Create makes a key and returns it with its secret, which is never shown again.
func (s *Keys) Create(ctx context.Context, in CreateKeyInput) (APIKey, seal.Secret, error) {
	if err := in.Validate(); err != nil {
		return APIKey{}, "", err
	}
	var key APIKey
	var secret seal.Secret
	var hash string
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		key, secret, hash, err = s.createTx(tx, in)
		if err != nil {
			return err
		}
		return audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditKeyCreated, key.ID,
			map[string]any{"name": key.Name, "prefix": key.Prefix, "scopes": key.Scopes})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKey, Ref: hash})
	return key, secret, nil
}

// createTx inserts a key and announces its hash on the change feed (every
// instance's filter of known keys takes it in when tx commits); the caller
// delivers the returned hash to this instance after the commit.
func (s *Keys) createTx(tx *gorm.DB, in CreateKeyInput) (APIKey, seal.Secret, string, error) {
	secret, hash, prefix, err := newAPIKeySecret()
	if err != nil {
		return APIKey{}, "", "", err
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = []string{ScopeInference}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	var expires *time.Time
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		expires = &e
	}
	row := apiKeyRow{ID: tenants.NewULID(), TenantID: string(in.TenantID), Name: strings.TrimSpace(in.Name), Prefix: prefix, Hash: hash,
		Scopes: encodeList(scopes), Models: encodeList(in.Models), RPMLimit: in.RPMLimit, TPMLimit: in.TPMLimit,
		CreatedBy: firstNonEmpty(in.Actor.UserID, in.Actor.Email), CreatedAt: tenants.NowUTC(), ExpiresAt: expires}
	if err := tx.Create(&row).Error; err != nil {
		return APIKey{}, "", "", err
	}
	if err := s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeKey, Ref: hash}); err != nil {
		return APIKey{}, "", "", err
	}
	return mapAPIKey(row), secret, hash, nil
}

// Get returns one key of a tenant. A key of another tenant is NotFound, exactly
// like a key that does not exist.
func (s *Keys) Get(ctx context.Context, tenant tenants.ID, id string) (APIKey, error) {
	row, err := s.get(s.db.Gorm.WithContext(ctx), tenant, id)
	if err != nil {
		return APIKey{}, err
	}
	return mapAPIKey(row), nil
}

func (s *Keys) get(db *gorm.DB, tenant tenants.ID, id string) (apiKeyRow, error) {
	var row apiKeyRow
	err := db.Where("tenant_id = ? AND id = ?", string(tenant), id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apiKeyRow{}, errkind.New(errkind.NotFound, "API key %q not found", id)
	}
	return row, err
}

// Find returns a tenant's key by id or by its display prefix ("tg_AbCd1234"); an
// ambiguous prefix is a Conflict. For the CLI.
func (s *Keys) Find(ctx context.Context, tenant tenants.ID, idOrPrefix string) (APIKey, error) {
	if !strings.HasPrefix(idOrPrefix, APIKeyPrefix) {
		return s.Get(ctx, tenant, idOrPrefix)
	}
	var rows []apiKeyRow
	if err := s.db.Gorm.WithContext(ctx).Where("tenant_id = ? AND prefix = ?", string(tenant), idOrPrefix).Limit(2).Find(&rows).Error; err != nil {
		return APIKey{}, err
	}
	switch len(rows) {
	case 0:
		return APIKey{}, errkind.New(errkind.NotFound, "no API key with prefix %q in this tenant", idOrPrefix)
	case 1:
		return mapAPIKey(rows[0]), nil
	}
	return APIKey{}, errkind.New(errkind.Conflict, "prefix %q matches several keys; use the key id", idOrPrefix)
}

// ListKeysInput selects a page of a tenant's keys, newest first.
type ListKeysInput struct {
	TenantID tenants.ID
	// Limit is the page size: 1..200, 0 means 50.
	Limit int
	// Cursor is the opaque next_cursor of the previous page; empty for the first.
	Cursor string
	// Query matches the name (substring, case-insensitive) or, when it starts with
	// "tg_", the key prefix (leading characters, exact case).
	Query string
}

// Validate reports every problem with the input.
func (in ListKeysInput) Validate() error {
	return tenants.ValidateList(in.TenantID, in.Limit, in.Cursor, in.Query, func(c string) bool {
		_, _, err := decodeKeyCursor(c)
		return err == nil
	})
}

// KeyPage is a page of keys; NextCursor is empty on the last page.
type KeyPage struct {
	Keys       []APIKey
	NextCursor string
}

// List returns a page of keys ordered by (created_at DESC, id). The cursor is the
// last row's (created_at, id), so every page is one range seek on the
// (tenant_id, created_at DESC, id) index however deep it is: fast with 100,000 keys.
func (s *Keys) List(ctx context.Context, in ListKeysInput) (KeyPage, error) {
	if err := in.Validate(); err != nil {
		return KeyPage{}, err
	}
	limit := tenants.ListLimit(in.Limit)
	q := s.db.Gorm.WithContext(ctx).Where("tenant_id = ?", string(in.TenantID))
	if in.Cursor != "" {
		at, id, _ := decodeKeyCursor(in.Cursor)
		q = q.Where("created_at <= ? AND (created_at < ? OR id > ?)", at, at, id)
	}
	switch text := strings.TrimSpace(in.Query); {
	case strings.HasPrefix(text, APIKeyPrefix):
		// A key prefix: a range seek on (tenant_id, prefix). Base62 is case-sensitive
		// and '~' sorts after every base62 character.
		q = q.Where("prefix >= ? AND prefix < ?", text, text+"~")
	case text != "":
		e := tenants.EscapeLike(strings.ToLower(text))
		q = q.Where("(lower(name) LIKE ? ESCAPE '\\' OR lower(prefix) LIKE ? ESCAPE '\\')", "%"+e+"%", e+"%")
	}
	var rows []apiKeyRow
	if err := q.Order("created_at DESC, id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return KeyPage{}, err
	}
	page := KeyPage{Keys: make([]APIKey, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			last := rows[limit-1]
			page.NextCursor = encodeKeyCursor(last.CreatedAt, last.ID)
			break
		}
		page.Keys = append(page.Keys, mapAPIKey(r))
	}
	return page, nil
}

func encodeKeyCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeKeyCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" || len(id) > 64 {
		return time.Time{}, "", errors.New("bad cursor")
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	return at.UTC(), id, err
}

// RevokeKeyInput revokes a key.
type RevokeKeyInput struct {
	TenantID tenants.ID
	KeyID    string
	Actor    audit.Actor
}

// Revoke refuses the key from now on, on every instance within a second. Revoking a
// revoked key changes nothing and succeeds.
func (s *Keys) Revoke(ctx context.Context, in RevokeKeyInput) (APIKey, error) {
	var out apiKeyRow
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.get(tx, in.TenantID, in.KeyID)
		if err != nil {
			return err
		}
		if row.RevokedAt == nil {
			now := tenants.NowUTC()
			row.RevokedAt = &now
			if err := tx.Model(&apiKeyRow{}).Where("id = ?", row.ID).Update("revoked_at", now).Error; err != nil {
				return err
			}
			if err := audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditKeyRevoked, row.ID, map[string]any{"name": row.Name, "prefix": row.Prefix,
				audit.DetailBefore: map[string]any{"status": "active"}, audit.DetailAfter: map[string]any{"status": "revoked"}}); err != nil {
				return err
			}
			if err := s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeKey, Ref: row.Hash}); err != nil {
				return err
			}
		}
		out = row
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKey, Ref: out.Hash})
	return mapAPIKey(out), nil
}

// RotateKeyInput replaces a key with a new one.
type RotateKeyInput struct {
	TenantID tenants.ID
	KeyID    string
	// Grace is how long the old key keeps working; nil means DefaultRotationGrace,
	// 0 revokes it at once. At most 30 days.
	Grace *time.Duration
	Actor audit.Actor
	// CarryOver, when set, runs inside the rotation's transaction once the successor
	// exists, before the commit: it carries what lives outside the key row (the
	// key's budgets, in the tenant's tables; see budget.CarryToSuccessor). Its error
	// cancels the rotation, so no successor ever runs without the old key's budgets.
	CarryOver func(ctx context.Context, old, successor APIKey) error
}

// Validate reports every problem with the input.
func (in RotateKeyInput) Validate() error {
	var errs []error
	if in.Grace != nil && (*in.Grace < 0 || *in.Grace > 30*24*time.Hour) {
		errs = append(errs, errors.New("grace_seconds must be between 0 and 2592000 (30 days)"))
	}
	return errkind.JoinInvalid("invalid rotation", errs)
}

// Rotate creates a new key with the old key's name, scopes, models, rate limits,
// expiry and owner (created_by), runs in.CarryOver (budgets), and lets the old key
// expire after the grace period. The new secret is returned once.
func (s *Keys) Rotate(ctx context.Context, in RotateKeyInput) (APIKey, seal.Secret, error) {
	if err := in.Validate(); err != nil {
		return APIKey{}, "", err
	}
	grace := DefaultRotationGrace
	if in.Grace != nil {
		grace = *in.Grace
	}
	var newKey APIKey
	var secret seal.Secret
	var oldHash, newHash string
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old, err := s.get(tx, in.TenantID, in.KeyID)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil {
			return errkind.New(errkind.Conflict, "API key %q is revoked; create a new key instead", old.ID)
		}
		now := tenants.NowUTC()
		if old.ExpiresAt != nil && !old.ExpiresAt.After(now) {
			return errkind.New(errkind.Conflict, "API key %q has expired; create a new key instead", old.ID)
		}
		// The successor belongs to the old key's member (created_by), not to whoever
		// rotates it: the member's budgets keep applying, and removing the member
		// revokes it too. The audit log records who rotated.
		newKey, secret, newHash, err = s.createTx(tx, CreateKeyInput{TenantID: in.TenantID, Name: old.Name, Scopes: decodeList(old.Scopes),
			Models: decodeList(old.Models), ExpiresAt: old.ExpiresAt, RPMLimit: old.RPMLimit, TPMLimit: old.TPMLimit,
			Actor: audit.Actor{UserID: old.CreatedBy}})
		if err != nil {
			return err
		}
		if in.CarryOver != nil {
			if err := in.CarryOver(ctx, mapAPIKey(old), newKey); err != nil {
				return fmt.Errorf("carrying the key's budgets to its successor: %w", err)
			}
			if err := s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeBudgets, Ref: string(in.TenantID)}); err != nil {
				return err
			}
		}
		updates := map[string]any{}
		if grace == 0 {
			updates["revoked_at"] = now
		} else if until := now.Add(grace); old.ExpiresAt == nil || until.Before(*old.ExpiresAt) {
			updates["expires_at"] = until
		}
		if len(updates) > 0 {
			if err := tx.Model(&apiKeyRow{}).Where("id = ?", old.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
		oldHash = old.Hash
		if err := audit.RecordTx(tx, in.TenantID, in.Actor, audit.AuditKeyRotated, old.ID,
			map[string]any{"name": old.Name, "new_key_id": newKey.ID, "grace_seconds": int64(grace / time.Second)}); err != nil {
			return err
		}
		return s.feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeKey, Ref: old.Hash})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKey, Ref: oldHash})
	s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKey, Ref: newHash})
	if in.CarryOver != nil {
		s.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeBudgets, Ref: string(in.TenantID)})
	}
	return newKey, secret, nil
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
