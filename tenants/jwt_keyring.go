package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tollgate-dev/tollgate/internal/database"
)

// settingJWTKeyring is the settings row holding the generated signing keyring.
const settingJWTKeyring = "jwt_keyring"

// Keyring holds the HMAC secrets that sign session tokens, by key id (the JWT "kid"
// header). The current key signs; every key verifies, so a rotation does not sign
// anyone out: tokens signed with the previous key stay valid until they expire.
type Keyring struct {
	mu      sync.RWMutex
	current string
	keys    map[string][]byte
}

// keyringDoc is the stored form of a generated keyring.
type keyringDoc struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"` // kid → base64 secret
}

// LogValue keeps secrets out of logs: only the key ids print.
func (k *Keyring) LogValue() slog.Value {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slog.GroupValue(slog.String("current", k.current), slog.Int("keys", len(k.keys)))
}

// NewStaticKeyring is a keyring of one configured secret (TOLLGATE_JWT_SECRET). Its
// kid derives from the secret, so replicas with the same secret agree on it.
func NewStaticKeyring(secret string) *Keyring {
	sum := sha256.Sum256([]byte("tollgate-kid:" + secret))
	kid := "env-" + hex.EncodeToString(sum[:4])
	return &Keyring{current: kid, keys: map[string][]byte{kid: []byte(secret)}}
}

// LoadKeyring returns the keyring for sessions: a static one when secret is set,
// otherwise the one stored in settings, generated on first use. Several replicas
// starting at once agree: the first insert wins and everyone reads it back.
func LoadKeyring(ctx context.Context, db *database.DB, secret string) (*Keyring, error) {
	if secret != "" {
		return NewStaticKeyring(secret), nil
	}
	k := &Keyring{}
	if err := k.reload(ctx, db, true); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keyring) reload(ctx context.Context, db *database.DB, create bool) error {
	doc, err := readKeyring(ctx, db.Gorm)
	if errors.Is(err, gorm.ErrRecordNotFound) && create {
		kid, secret, gerr := newSigningKey()
		if gerr != nil {
			return gerr
		}
		doc = keyringDoc{Current: kid, Keys: map[string]string{kid: secret}}
		b, _ := json.Marshal(doc)
		if err := db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&settingRow{Key: settingJWTKeyring, Value: string(b), UpdatedAt: nowUTC()}).Error; err != nil {
			return fmt.Errorf("store jwt keyring: %w", err)
		}
		doc, err = readKeyring(ctx, db.Gorm)
	}
	if err != nil {
		return fmt.Errorf("read jwt keyring: %w", err)
	}
	keys := map[string][]byte{}
	for kid, s := range doc.Keys {
		b, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("jwt keyring: key %s: %w", kid, err)
		}
		keys[kid] = b
	}
	if _, ok := keys[doc.Current]; !ok {
		return fmt.Errorf("jwt keyring: current key %q missing", doc.Current)
	}
	k.mu.Lock()
	k.current, k.keys = doc.Current, keys
	k.mu.Unlock()
	return nil
}

// RotateKeyring adds a fresh signing key to the stored keyring and makes it current,
// keeping at most keep keys (the oldest are dropped; tokens they signed stop
// verifying). It returns the new kid. Other instances pick it up on the change feed.
func RotateKeyring(ctx context.Context, db *database.DB, feed *ChangeFeed, keep int) (string, error) {
	keep = max(keep, 2)
	kid, secret, err := newSigningKey()
	if err != nil {
		return "", err
	}
	err = db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		doc, err := readKeyring(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}))
		if err != nil {
			return err
		}
		doc.Keys[kid] = secret
		doc.Current = kid
		for len(doc.Keys) > keep {
			oldest := ""
			for id := range doc.Keys {
				if id != kid && (oldest == "" || id < oldest) {
					oldest = id
				}
			}
			delete(doc.Keys, oldest)
		}
		b, _ := json.Marshal(doc)
		if err := tx.Model(&settingRow{}).Where("key = ?", settingJWTKeyring).
			Updates(map[string]any{"value": string(b), "updated_at": nowUTC()}).Error; err != nil {
			return err
		}
		return feed.publishTx(tx, Change{Kind: ChangeKeyring})
	})
	if err != nil {
		return "", err
	}
	feed.Deliver(ctx, Change{Kind: ChangeKeyring})
	return kid, nil
}

// Follow reloads the stored keyring when the feed reports a rotation (no-op for a
// static keyring, which has no stored form).
func (k *Keyring) Follow(db *database.DB, feed *ChangeFeed, static bool, logger *slog.Logger) {
	if static {
		return
	}
	feed.Subscribe(func(ctx context.Context, c Change) {
		if c.Kind == ChangeKeyring || c.Kind == ChangeResync {
			if err := k.reload(ctx, db, false); err != nil {
				logger.WarnContext(ctx, "jwt keyring reload failed", "error", err)
			}
		}
	})
}

// signingKey returns the current kid and secret.
func (k *Keyring) signingKey() (string, []byte) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, k.keys[k.current]
}

// verificationKey returns the secret of kid.
func (k *Keyring) verificationKey(kid string) ([]byte, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	b, ok := k.keys[kid]
	return b, ok
}

// Current returns the kid that signs new tokens.
func (k *Keyring) Current() string {
	kid, _ := k.signingKey()
	return kid
}

func newSigningKey() (kid, secret string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return "", "", err
	}
	return "k" + hex.EncodeToString(id), base64.RawStdEncoding.EncodeToString(b), nil
}

type settingRow struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

func (settingRow) TableName() string { return "settings" }

func readKeyring(ctx context.Context, db *gorm.DB) (keyringDoc, error) {
	var row settingRow
	if err := db.WithContext(ctx).Where("key = ?", settingJWTKeyring).Take(&row).Error; err != nil {
		return keyringDoc{}, err
	}
	var doc keyringDoc
	if err := json.Unmarshal([]byte(row.Value), &doc); err != nil {
		return keyringDoc{}, err
	}
	if doc.Keys == nil {
		doc.Keys = map[string]string{}
	}
	return doc, nil
}
