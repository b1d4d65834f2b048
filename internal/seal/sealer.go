// Package seal encrypts secrets at rest under the master key (TOLLGATE_MASTER_KEY)
// and gives them a type that never prints. It sits below routing, worker and tenants,
// which all store sealed values, so none of them imports another for it.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// sealerInfo separates this key's use from any other key derived from the same
// master key; changing it makes every sealed value unreadable. It names provider
// credentials for history: every sealed value (webhook secrets, the JWT keyring)
// uses this key, kept apart by its aad.
const sealerInfo = "tollgate provider credentials v1"

// sealedVersion prefixes every sealed value so the format can change later.
const sealedVersion byte = 1

// ErrUnseal means a sealed value could not be opened: wrong master key,
// tampered ciphertext, or a value sealed for another context (aad).
var ErrUnseal = errors.New("seal: cannot open sealed value (wrong master key or tampered data)")

// Sealer encrypts secrets at rest (provider credentials, webhook secrets, the JWT
// signing keyring) with AES-256-GCM under a key derived from TOLLGATE_MASTER_KEY
// with HKDF-SHA256. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New derives the encryption key from the master key string. An empty
// master key is refused: it would make "encrypted at rest" a fiction.
func New(masterKey Secret) (*Sealer, error) {
	if masterKey == "" {
		return nil, errkind.New(errkind.Invalid, "master key must not be empty")
	}
	key, err := hkdf.Key(sha256.New, []byte(masterKey.Reveal()), nil, sealerInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret. aad binds the ciphertext to its context (for example
// "tenant:<id>/provider:openai") so a sealed value copied to another row fails
// to open; pass the same aad to Open. The result is version || nonce || ciphertext.
func (s *Sealer) Seal(secret Secret, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), 1+s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealedVersion}, nonce...)
	return s.aead.Seal(out, nonce, []byte(secret.Reveal()), aad), nil
}

// Open decrypts a value made by Seal with the same aad. Any failure is ErrUnseal.
func (s *Sealer) Open(sealed, aad []byte) (Secret, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealedVersion {
		return "", ErrUnseal
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad)
	if err != nil {
		return "", ErrUnseal
	}
	return Secret(plain), nil
}

// SealString is Seal with base64 (standard, padded) output, for text columns.
func (s *Sealer) SealString(secret Secret, aad []byte) (string, error) {
	b, err := s.Seal(secret, aad)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// OpenString opens a value made by SealString.
func (s *Sealer) OpenString(sealed string, aad []byte) (Secret, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrUnseal
	}
	return s.Open(b, aad)
}

// LogValue keeps the sealer's key material out of logs.
func (s *Sealer) LogValue() slog.Value { return slog.StringValue("[sealer]") }
