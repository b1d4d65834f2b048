package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// PasswordParams are argon2id's cost parameters. They are written into every hash
// string, so raising them later only affects new hashes; old ones still verify.
type PasswordParams struct {
	// MemoryKiB is the memory cost in KiB. Default 65536 (64 MiB).
	MemoryKiB uint32
	// Iterations is the time cost. Default 1.
	Iterations uint32
	// Threads is the parallelism. Default 2.
	Threads uint8
}

// DefaultPasswordParams is 64 MiB, 1 iteration, 2 lanes: RFC 9106's memory-hard
// profile trimmed so a login stays fast on a small server while an offline guess
// still costs 64 MiB of memory.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{MemoryKiB: 64 * 1024, Iterations: 1, Threads: 2}
}

// TestPasswordParams are cheap parameters (1 MiB) for tests only.
func TestPasswordParams() PasswordParams {
	return PasswordParams{MemoryKiB: 1024, Iterations: 1, Threads: 1}
}

const (
	saltLen = 16
	keyLen  = 32
	// maxPasswordLen bounds the work an attacker can ask argon2 to do per attempt.
	maxPasswordLen = 256
	minPasswordLen = 10
)

// Hasher hashes and verifies passwords with argon2id, allowing only a few hashes at
// once so that a flood of logins cannot allocate MemoryKiB per request without bound.
type Hasher struct {
	params PasswordParams
	sem    chan struct{}
}

// NewHasher returns a hasher with params; zero fields take DefaultPasswordParams.
func NewHasher(params PasswordParams) *Hasher {
	def := DefaultPasswordParams()
	if params.MemoryKiB == 0 {
		params.MemoryKiB = def.MemoryKiB
	}
	if params.Iterations == 0 {
		params.Iterations = def.Iterations
	}
	if params.Threads == 0 {
		params.Threads = def.Threads
	}
	return &Hasher{params: params, sem: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// Hash returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<key> (unpadded base64).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, using the parameters stored in
// encoded. An empty or unparseable hash never matches.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Burn spends the time of one verification, so an unknown email answers as slowly
// as a wrong password and cannot be told apart by timing.
func (h *Hasher) Burn(ctx context.Context, password string) {
	if err := h.acquire(ctx); err != nil {
		return
	}
	defer h.release()
	p := h.params
	_ = argon2.IDKey([]byte(password), make([]byte, saltLen), p.Iterations, p.MemoryKiB, p.Threads, keyLen)
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errkind.Wrap(errkind.Unavailable, ctx.Err(), "password check cancelled")
	}
}

func (h *Hasher) release() { <-h.sem }

func parseHash(encoded string) (PasswordParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return PasswordParams{}, nil, nil, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return PasswordParams{}, nil, nil, errors.New("unsupported argon2 version")
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Threads); err != nil {
		return PasswordParams{}, nil, nil, err
	}
	// Refuse absurd stored parameters rather than let a tampered row exhaust memory.
	if p.MemoryKiB == 0 || p.MemoryKiB > 1<<20 || p.Iterations == 0 || p.Iterations > 16 || p.Threads == 0 {
		return PasswordParams{}, nil, nil, errors.New("argon2 parameters out of range")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return PasswordParams{}, nil, nil, err
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return PasswordParams{}, nil, nil, errors.New("bad key")
	}
	return p, salt, key, nil
}

// validatePassword reports what is wrong with a new password, or nil.
func validatePassword(pw string) error {
	switch {
	case len(pw) < minPasswordLen:
		return fmt.Errorf("password must be at least %d characters", minPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("password must be at most %d characters", maxPasswordLen)
	}
	return nil
}
