package tier

import (
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Environment variable names of the knobs, as internal/config reads them and
// RenderEnv writes them.
const (
	EnvWorkerConcurrency = "TOLLGATE_WORKER_CONCURRENCY"
	EnvDBMaxOpenConns    = "TOLLGATE_DB_MAX_OPEN_CONNS"
	EnvDBMaxIdleConns    = "TOLLGATE_DB_MAX_IDLE_CONNS"
	EnvLedgerBatchSize   = "TOLLGATE_LEDGER_BATCH_SIZE"
	EnvKeyCacheSize      = "TOLLGATE_KEY_CACHE_SIZE"
	EnvMaxBodyBytes      = "TOLLGATE_MAX_BODY_BYTES"
)

// Knobs are the sizing values a tier sets.
//
//	knob                   Constrained   Balanced   High-perf   Enterprise
//	WorkerConcurrency      2             8          32          100
//	DBMaxOpenConns         4             16         48          100
//	DBMaxIdleConns         2             8          24          50
//	LedgerBatchSize        100           500        1000        5000
//	KeyCacheSize           1,000         10,000     100,000     1,000,000
//	MaxBodyBytes           4 MiB         8 MiB      16 MiB      32 MiB
type Knobs struct {
	// WorkerConcurrency is how many background jobs one worker runs at once
	// (River's MaxWorkers). Jobs mostly wait on the database and Stripe, so it
	// exceeds the core count.
	WorkerConcurrency int `json:"worker_concurrency"`
	// DBMaxOpenConns caps the database pool of one process (database/sql
	// SetMaxOpenConns). With Postgres, replicas × this must stay under
	// max_connections.
	DBMaxOpenConns int `json:"db_max_open_conns"`
	// DBMaxIdleConns is how many pooled connections stay open when idle.
	DBMaxIdleConns int `json:"db_max_idle_conns"`
	// LedgerBatchSize is the most usage events the ledger writer inserts in one
	// statement.
	LedgerBatchSize int `json:"ledger_batch_size"`
	// KeyCacheSize is the most API keys the authentication cache holds, entries.
	KeyCacheSize int `json:"key_cache_size"`
	// MaxBodyBytes caps an API request body, bytes.
	MaxBodyBytes int64 `json:"max_body_bytes"`
}

// KnobsFor returns the default knobs of tier t (see the Knobs table). A value
// outside 1–4 is clamped into range.
func KnobsFor(t Tier) Knobs {
	switch {
	case t <= TierConstrained:
		return Knobs{WorkerConcurrency: 2, DBMaxOpenConns: 4, DBMaxIdleConns: 2, LedgerBatchSize: 100, KeyCacheSize: 1_000, MaxBodyBytes: 4 << 20}
	case t == TierBalanced:
		return Knobs{WorkerConcurrency: 8, DBMaxOpenConns: 16, DBMaxIdleConns: 8, LedgerBatchSize: 500, KeyCacheSize: 10_000, MaxBodyBytes: 8 << 20}
	case t == TierHighPerformance:
		return Knobs{WorkerConcurrency: 32, DBMaxOpenConns: 48, DBMaxIdleConns: 24, LedgerBatchSize: 1_000, KeyCacheSize: 100_000, MaxBodyBytes: 16 << 20}
	}
	return Knobs{WorkerConcurrency: 100, DBMaxOpenConns: 100, DBMaxIdleConns: 50, LedgerBatchSize: 5_000, KeyCacheSize: 1_000_000, MaxBodyBytes: 32 << 20}
}

// Overrides replace individual knobs; the config layer fills them from the env
// names above. A zero field keeps the tier's value.
type Overrides struct {
	// WorkerConcurrency replaces Knobs.WorkerConcurrency (TOLLGATE_WORKER_CONCURRENCY). 0 keeps it.
	WorkerConcurrency int `json:"worker_concurrency,omitempty"`
	// DBMaxOpenConns replaces Knobs.DBMaxOpenConns (TOLLGATE_DB_MAX_OPEN_CONNS). 0 keeps it.
	DBMaxOpenConns int `json:"db_max_open_conns,omitempty"`
	// DBMaxIdleConns replaces Knobs.DBMaxIdleConns (TOLLGATE_DB_MAX_IDLE_CONNS). 0 keeps it.
	DBMaxIdleConns int `json:"db_max_idle_conns,omitempty"`
	// LedgerBatchSize replaces Knobs.LedgerBatchSize (TOLLGATE_LEDGER_BATCH_SIZE). 0 keeps it.
	LedgerBatchSize int `json:"ledger_batch_size,omitempty"`
	// KeyCacheSize replaces Knobs.KeyCacheSize (TOLLGATE_KEY_CACHE_SIZE). 0 keeps it.
	KeyCacheSize int `json:"key_cache_size,omitempty"`
	// MaxBodyBytes replaces Knobs.MaxBodyBytes (TOLLGATE_MAX_BODY_BYTES), bytes. 0 keeps it.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
}

// Validate reports every negative override at once, as an errkind.Invalid error
// naming the env variable.
func (o Overrides) Validate() error {
	var errs []error
	for _, f := range o.fields(&Knobs{}) {
		if f.value < 0 {
			errs = append(errs, fmt.Errorf("%s: must be >= 0, got %d", f.env, f.value))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid tier overrides")
	}
	return nil
}

// WithOverrides returns p with o applied: each non-zero override replaces its
// knob, is listed in Overridden and explained in Reasons. When the result leaves
// more idle than open connections, idle is lowered to open (database/sql does the
// same silently).
func (p Profile) WithOverrides(o Overrides) (Profile, error) {
	if err := o.Validate(); err != nil {
		return p, err
	}
	p.Reasons = append([]string(nil), p.Reasons...)
	p.Overridden = append([]string(nil), p.Overridden...)
	for _, f := range o.fields(&p.Knobs) {
		if f.value == 0 {
			continue
		}
		p.Reasons = append(p.Reasons, fmt.Sprintf("%s=%d overrides the tier's %d", f.env, f.value, f.get()))
		p.Overridden = append(p.Overridden, f.env)
		f.set(f.value)
	}
	if p.Knobs.DBMaxIdleConns > p.Knobs.DBMaxOpenConns {
		p.Reasons = append(p.Reasons, fmt.Sprintf("%s lowered to %d to match %s", EnvDBMaxIdleConns, p.Knobs.DBMaxOpenConns, EnvDBMaxOpenConns))
		p.Knobs.DBMaxIdleConns = p.Knobs.DBMaxOpenConns
	}
	return p, nil
}

// knobField ties one override to its knob.
type knobField struct {
	env   string
	value int64
	get   func() int64
	set   func(int64)
}

func (o Overrides) fields(k *Knobs) []knobField {
	intField := func(env string, v int, dst *int) knobField {
		return knobField{env, int64(v), func() int64 { return int64(*dst) }, func(n int64) { *dst = int(n) }}
	}
	return []knobField{
		intField(EnvWorkerConcurrency, o.WorkerConcurrency, &k.WorkerConcurrency),
		intField(EnvDBMaxOpenConns, o.DBMaxOpenConns, &k.DBMaxOpenConns),
		intField(EnvDBMaxIdleConns, o.DBMaxIdleConns, &k.DBMaxIdleConns),
		intField(EnvLedgerBatchSize, o.LedgerBatchSize, &k.LedgerBatchSize),
		intField(EnvKeyCacheSize, o.KeyCacheSize, &k.KeyCacheSize),
		{EnvMaxBodyBytes, o.MaxBodyBytes, func() int64 { return k.MaxBodyBytes }, func(n int64) { k.MaxBodyBytes = n }},
	}
}
