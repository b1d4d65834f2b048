package tenants

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/migrations"
)

// ChangeKind says what changed in the identity data that instances cache.
type ChangeKind string

// Change kinds.
const (
	// ChangeKey: an API key was created, revoked, rotated or changed; Ref is its
	// SHA-256 hex.
	ChangeKey ChangeKind = "key"
	// ChangeTenant: a tenant was suspended or resumed; Ref is its id.
	ChangeTenant ChangeKind = "tenant"
	// ChangeRBAC: a membership or superadmin assignment changed; Ref is empty.
	ChangeRBAC ChangeKind = "rbac"
	// ChangeBudgets: a tenant's budgets changed in a way cached budget lists must
	// see at once (a rotated key's successor joined its key budgets); Ref is the
	// tenant id.
	ChangeBudgets ChangeKind = "budgets"
	// ChangePlacement: a tenant moved to another Postgres cluster; Ref is its id.
	// Every replica forgets the tenant's cached cluster.
	ChangePlacement ChangeKind = "placement"
	// ChangeKeyring: the JWT signing keyring changed; Ref is empty.
	ChangeKeyring ChangeKind = "keyring"
	// ChangeResync: not a change but a prompt to re-verify every cache (periodic
	// safety net, and after the listener reconnects and may have missed changes).
	ChangeResync ChangeKind = "resync"
)

// Change is one event on the feed.
type Change struct {
	Kind ChangeKind
	Ref  string
}

// NotifyChannel is the Postgres LISTEN/NOTIFY channel of the change feed.
const NotifyChannel = "tollgate_identity"

// ChangeFeedConfig tunes the feed.
type ChangeFeedConfig struct {
	// PollInterval is how often SQLite polls for changes made by other processes
	// (the CLI). Default 500ms, so a CLI revocation is seen within a second.
	PollInterval time.Duration
	// ResyncInterval is how often every subscriber re-verifies its cache against the
	// database, catching anything a lost notification missed. Default 30s.
	ResyncInterval time.Duration
}

// ChangeFeed tells every instance when cached identity data (API keys, tenant
// status, RBAC rules) changed, so revocations are visible everywhere within a second.
//
// On Postgres, writers call pg_notify inside the changing transaction (so nothing is
// announced that did not commit) and each instance LISTENs on a dedicated
// connection. On SQLite (one serving process) changes are delivered in-process, and
// a cheap poll of revoked_at/updated_at catches changes made by the CLI.
type ChangeFeed struct {
	db     *database.DB
	cfg    ChangeFeedConfig
	logger *slog.Logger

	mu   sync.RWMutex
	subs []func(ctx context.Context, c Change)
}

// NewChangeFeed returns a feed over db; zero config fields take their defaults.
func NewChangeFeed(db *database.DB, cfg ChangeFeedConfig, logger *slog.Logger) *ChangeFeed {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = 30 * time.Second
	}
	return &ChangeFeed{db: db, cfg: cfg, logger: logger.With("component", "tenants.change_feed")}
}

// Subscribe registers fn for every change. fn must be quick and safe to call
// concurrently with itself.
func (f *ChangeFeed) Subscribe(fn func(ctx context.Context, c Change)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, fn)
}

// PublishTx announces c to other instances when tx commits (Postgres NOTIFY is
// transactional). It is a no-op on SQLite, where Deliver after commit suffices.
func (f *ChangeFeed) PublishTx(tx *gorm.DB, c Change) error {
	if f == nil || f.db.Dialect != migrations.DialectPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_notify(?, ?)", NotifyChannel, encodeChange(c)).Error
}

// Announce tells every instance about a change that was committed outside a
// transaction of this package (a tenant suspended through the Registry).
func (f *ChangeFeed) Announce(ctx context.Context, c Change) error {
	if err := f.PublishTx(f.db.Gorm.WithContext(ctx), c); err != nil {
		return err
	}
	f.Deliver(ctx, c)
	return nil
}

// Deliver hands c to this instance's subscribers. Writers call it after their
// transaction committed, so the writing instance never waits for its own NOTIFY.
func (f *ChangeFeed) Deliver(ctx context.Context, c Change) {
	if f == nil {
		return
	}
	f.mu.RLock()
	subs := f.subs
	f.mu.RUnlock()
	for _, fn := range subs {
		fn(ctx, c)
	}
}

func encodeChange(c Change) string {
	if c.Ref == "" {
		return string(c.Kind)
	}
	return string(c.Kind) + ":" + c.Ref
}

func decodeChange(s string) Change {
	kind, ref, _ := strings.Cut(s, ":")
	return Change{Kind: ChangeKind(kind), Ref: ref}
}

// Run listens (Postgres) or polls (SQLite), and prompts a resync every
// ResyncInterval, until ctx is cancelled.
func (f *ChangeFeed) Run(ctx context.Context) {
	go f.resyncLoop(ctx)
	if f.db.Dialect == migrations.DialectPostgres {
		f.listen(ctx)
		return
	}
	f.poll(ctx)
}

func (f *ChangeFeed) resyncLoop(ctx context.Context) {
	t := time.NewTicker(f.cfg.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Deliver(ctx, Change{Kind: ChangeResync})
		}
	}
}

// listen keeps one dedicated connection LISTENing, reconnecting with backoff. After
// every (re)connect it prompts a resync, since notifications sent while it was
// away are lost.
func (f *ChangeFeed) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := f.listenOnce(ctx, func() {
			backoff = 100 * time.Millisecond
			if !first {
				f.Deliver(ctx, Change{Kind: ChangeResync})
			}
			first = false
		})
		if ctx.Err() != nil {
			return
		}
		f.logger.WarnContext(ctx, "change feed listener lost its connection; reconnecting", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (f *ChangeFeed) listenOnce(ctx context.Context, connected func()) error {
	conn, err := pgx.Connect(ctx, f.db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		f.Deliver(ctx, decodeChange(n.Payload))
	}
}

// poll looks for changes other processes made to the SQLite file: keys created or
// revoked, tenants updated, RBAC rules added or removed.
func (f *ChangeFeed) poll(ctx context.Context) {
	t := time.NewTicker(f.cfg.PollInterval)
	defer t.Stop()
	since := time.Now().UTC()
	var lastRules string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Overlap windows by a second: a row committed just before the previous poll
		// with an older timestamp must not slip through. Invalidations are idempotent.
		now := time.Now().UTC()
		from := since.Add(-time.Second)
		since = now
		db := f.db.Gorm.WithContext(ctx)
		var hashes []string
		if err := db.Table("api_keys").Where("revoked_at >= ? OR created_at >= ?", from, from).
			Pluck("hash", &hashes).Error; err != nil {
			f.logger.WarnContext(ctx, "change feed poll failed", "error", err)
			continue
		}
		for _, h := range hashes {
			f.Deliver(ctx, Change{Kind: ChangeKey, Ref: h})
		}
		var tenantIDs []string
		if err := db.Table("tenants").Where("updated_at >= ?", from).Pluck("id", &tenantIDs).Error; err == nil {
			for _, id := range tenantIDs {
				f.Deliver(ctx, Change{Kind: ChangeTenant, Ref: id})
			}
		}
		var stamp struct{ N, Max int64 }
		if err := db.Raw("SELECT count(*) AS n, coalesce(max(id), 0) AS max FROM casbin_rule").Scan(&stamp).Error; err == nil {
			// The first poll reloads too: a rule written (by the CLI) after this
			// process loaded the policy but before that poll is otherwise missed
			// until the periodic resync.
			cur := fmt.Sprintf("%d/%d", stamp.N, stamp.Max)
			if cur != lastRules {
				f.Deliver(ctx, Change{Kind: ChangeRBAC})
			}
			lastRules = cur
		}
	}
}
