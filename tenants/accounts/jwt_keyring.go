package accounts

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
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// settingJWTKeyring is the settings row holding the generated signing keyring.
const settingJWTKeyring = "jwt_keyring"

// exposedKeyGrace is how long the keys of a keyring found in plaintext keep
// verifying after it is sealed: longer than any access token lives (15 minutes),
// so nobody is signed out and replicas still on the old version keep working
// while they are replaced. After it, a key read from an old backup or from the
// database's history mints nothing.
const exposedKeyGrace = time.Hour

// keyringAAD binds the sealed keyring to its settings row: a sealed value copied
// into another row (a provider credential) does not open, nor the reverse.
var keyringAAD = []byte("settings:" + settingJWTKeyring)

// Keyring holds the HMAC secrets that sign session tokens, by key id (the JWT "kid"
// header). The current key signs; every key verifies, so a rotation does not sign
// anyone out: tokens signed with the previous key stay valid until they expire.
// A generated keyring is stored sealed with the master key: whoever reads the
// database or a backup of it cannot mint session tokens.
type Keyring struct {
	// db and sealer are nil for a static keyring (TOLLGATE_JWT_SECRET).
	db     *database.DB
	sealer *seal.Sealer

	// now is the clock retirements are checked against; nil means time.Now.
	now func() time.Time

	mu      sync.RWMutex
	current string
	keys    map[string][]byte
	// retire holds, for keys that were once stored in plaintext, when they stop
	// verifying.
	retire map[string]time.Time
}

// keyringDoc is the plaintext form of a generated keyring; it is stored only inside
// storedKeyring.Sealed.
type keyringDoc struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"` // kid → base64 secret
	// Retire maps the kid of a key that was exposed (stored in plaintext) to the
	// Unix time after which it no longer verifies; it never signs again.
	Retire map[string]int64 `json:"retire,omitempty"`
}

// storedKeyring is the settings row's JSON. Sealed is the keyringDoc sealed under
// the master key (base64). Rows written before sealing hold the plaintext
// keyringDoc fields instead; LoadKeyring seals them in place.
type storedKeyring struct {
	Sealed string `json:"sealed,omitempty"`
	// Current and Keys are the plaintext fields of an old row.
	Current string            `json:"current,omitempty"`
	Keys    map[string]string `json:"keys,omitempty"`
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

// KeyringConfig says where the session signing keys come from.
type KeyringConfig struct {
	// Secret is TOLLGATE_JWT_SECRET: when set it is the one signing key and nothing
	// is stored.
	Secret string
	// Sealer seals the stored keyring (TOLLGATE_MASTER_KEY). Required when Secret is
	// empty: a plaintext keyring in the database would let anyone who can read it
	// (or a backup) sign in as anyone.
	Sealer *seal.Sealer
}

// errKeyringNeedsMasterKey refuses to keep a generated keyring without a master key.
func errKeyringNeedsMasterKey() error {
	return errkind.New(errkind.Invalid, "set TOLLGATE_MASTER_KEY (the generated session signing keys are stored sealed with it) or TOLLGATE_JWT_SECRET")
}

// LoadKeyring returns the keyring for sessions: a static one when cfg.Secret is
// set, otherwise the one stored (sealed) in settings, generated on first use.
// Several replicas starting at once agree: the first insert wins and everyone reads
// it back. A keyring stored in plaintext by an older version is sealed in place.
func LoadKeyring(ctx context.Context, db *database.DB, cfg KeyringConfig) (*Keyring, error) {
	if cfg.Secret != "" {
		return NewStaticKeyring(cfg.Secret), nil
	}
	if cfg.Sealer == nil {
		return nil, errKeyringNeedsMasterKey()
	}
	k := &Keyring{db: db, sealer: cfg.Sealer}
	if err := k.reload(ctx, true); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keyring) reload(ctx context.Context, create bool) error {
	doc, plaintext, err := readKeyring(ctx, k.db.Gorm, k.sealer)
	if errors.Is(err, gorm.ErrRecordNotFound) && create {
		kid, secret, gerr := newSigningKey()
		if gerr != nil {
			return gerr
		}
		value, serr := sealKeyring(k.sealer, keyringDoc{Current: kid, Keys: map[string]string{kid: secret}})
		if serr != nil {
			return serr
		}
		if err := k.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&settingRow{Key: settingJWTKeyring, Value: value, UpdatedAt: tenants.NowUTC()}).Error; err != nil {
			return fmt.Errorf("store jwt keyring: %w", err)
		}
		doc, plaintext, err = readKeyring(ctx, k.db.Gorm, k.sealer)
	}
	if err != nil {
		return fmt.Errorf("read jwt keyring: %w", err)
	}
	if plaintext {
		if err := k.sealStored(ctx); err != nil {
			return fmt.Errorf("seal the stored jwt keyring: %w", err)
		}
		// Another replica may have sealed it first: use what is stored now.
		if doc, _, err = readKeyring(ctx, k.db.Gorm, k.sealer); err != nil {
			return fmt.Errorf("read jwt keyring: %w", err)
		}
	}
	retire := map[string]time.Time{}
	for kid, at := range doc.Retire {
		retire[kid] = time.Unix(at, 0)
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
	k.current, k.keys, k.retire = doc.Current, keys, retire
	k.mu.Unlock()
	return nil
}

// sealStored rewrites a plaintext keyring row sealed, under a row lock so that
// replicas upgrading at once write it once. The plaintext keys may sit in backups
// and in the database's history, so a fresh key becomes current and the exposed
// ones only verify for exposedKeyGrace: nobody is signed out by the upgrade.
func (k *Keyring) sealStored(ctx context.Context) error {
	return k.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		doc, plaintext, err := readKeyring(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), k.sealer)
		if err != nil || !plaintext {
			return err
		}
		kid, secret, err := newSigningKey()
		if err != nil {
			return err
		}
		retireAt := k.clock().Add(exposedKeyGrace).Unix()
		doc.Retire = map[string]int64{}
		for old := range doc.Keys {
			doc.Retire[old] = retireAt
		}
		doc.Keys[kid], doc.Current = secret, kid
		value, err := sealKeyring(k.sealer, doc)
		if err != nil {
			return err
		}
		return tx.Model(&settingRow{}).Where("key = ?", settingJWTKeyring).
			Updates(map[string]any{"value": value, "updated_at": tenants.NowUTC()}).Error
	})
}

// Rotate adds a fresh signing key to the stored keyring and makes it current,
// keeping at most keep keys (the oldest are dropped; tokens they signed stop
// verifying). It returns the new kid. Other instances pick it up on the change feed.
// A static keyring (TOLLGATE_JWT_SECRET) cannot rotate: change the variable.
func (k *Keyring) Rotate(ctx context.Context, feed *tenants.ChangeFeed, keep int) (string, error) {
	if k.db == nil {
		return "", errkind.New(errkind.Invalid, "the signing key comes from TOLLGATE_JWT_SECRET; change that variable to rotate it")
	}
	keep = max(keep, 2)
	kid, secret, err := newSigningKey()
	if err != nil {
		return "", err
	}
	err = k.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		doc, _, err := readKeyring(ctx, tx.Clauses(clause.Locking{Strength: "UPDATE"}), k.sealer)
		if err != nil {
			return err
		}
		doc.Keys[kid] = secret
		doc.Current = kid
		now := k.clock().Unix()
		for old, at := range doc.Retire {
			if at <= now {
				delete(doc.Keys, old)
				delete(doc.Retire, old)
			}
		}
		for len(doc.Keys) > keep {
			oldest := ""
			for id := range doc.Keys {
				if id != kid && (oldest == "" || id < oldest) {
					oldest = id
				}
			}
			delete(doc.Keys, oldest)
			delete(doc.Retire, oldest)
		}
		value, err := sealKeyring(k.sealer, doc)
		if err != nil {
			return err
		}
		if err := tx.Model(&settingRow{}).Where("key = ?", settingJWTKeyring).
			Updates(map[string]any{"value": value, "updated_at": tenants.NowUTC()}).Error; err != nil {
			return err
		}
		return feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeKeyring})
	})
	if err != nil {
		return "", err
	}
	feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeKeyring})
	return kid, nil
}

// Follow reloads the stored keyring when the feed reports a rotation (no-op for a
// static keyring, which has no stored form).
func (k *Keyring) Follow(feed *tenants.ChangeFeed, logger *slog.Logger) {
	if k.db == nil {
		return
	}
	feed.Subscribe(func(ctx context.Context, c tenants.Change) {
		if c.Kind == tenants.ChangeKeyring || c.Kind == tenants.ChangeResync {
			if err := k.reload(ctx, false); err != nil {
				logger.WarnContext(ctx, "jwt keyring reload failed", "error", err)
			}
		}
	})
}

func (k *Keyring) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// signingKey returns the current kid and secret.
func (k *Keyring) signingKey() (string, []byte) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, k.keys[k.current]
}

// verificationKey returns the secret of kid, unless kid was exposed and its grace
// has passed.
func (k *Keyring) verificationKey(kid string) ([]byte, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if at, ok := k.retire[kid]; ok && !k.clock().Before(at) {
		return nil, false
	}
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

// readKeyring reads the stored keyring, opening it with sealer. plaintext reports a
// row written before keyrings were sealed (its keys are returned as they are).
func readKeyring(ctx context.Context, db *gorm.DB, sealer *seal.Sealer) (doc keyringDoc, plaintext bool, err error) {
	var row settingRow
	if err := db.WithContext(ctx).Where("key = ?", settingJWTKeyring).Take(&row).Error; err != nil {
		return keyringDoc{}, false, err
	}
	var stored storedKeyring
	if err := json.Unmarshal([]byte(row.Value), &stored); err != nil {
		return keyringDoc{}, false, err
	}
	if stored.Sealed == "" {
		doc, plaintext = keyringDoc{Current: stored.Current, Keys: stored.Keys}, true
	} else {
		raw, err := sealer.OpenString(stored.Sealed, keyringAAD)
		if err != nil {
			return keyringDoc{}, false, errkind.Wrap(errkind.Invalid, err,
				"the stored session signing keys cannot be opened: TOLLGATE_MASTER_KEY differs from the one they were sealed with")
		}
		if err := json.Unmarshal([]byte(raw.Reveal()), &doc); err != nil {
			return keyringDoc{}, false, err
		}
	}
	if doc.Keys == nil {
		doc.Keys = map[string]string{}
	}
	return doc, plaintext, nil
}

// sealKeyring returns the settings value holding doc sealed under the master key.
func sealKeyring(sealer *seal.Sealer, doc keyringDoc) (string, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	sealed, err := sealer.SealString(seal.Secret(raw), keyringAAD)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(storedKeyring{Sealed: sealed})
	return string(b), err
}
