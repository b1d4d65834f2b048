package apikeys

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// keepUsed saves an entry's unflushed last use before the entry leaves the cache.
// Callers hold a.mu.
func (a *KeyAuthenticator) keepUsed(e *keyEntry) {
	if u := e.lastUsed.Load(); u > e.flushed.Load() {
		a.usedMu.Lock()
		if u > a.used[e.key.ID] {
			a.used[e.key.ID] = u
		}
		a.usedMu.Unlock()
	}
}

// FlushLastUsed writes the last-use times gathered since the previous flush, in one
// transaction. Requests never write: they store an atomic timestamp in the cache
// entry, and this runs every few seconds, so last_used_at is exact to the flush
// interval and costs one small batch instead of a write per request.
func (a *KeyAuthenticator) FlushLastUsed(ctx context.Context) error {
	marks := map[string]int64{}
	var flushed []func()
	a.mu.RLock()
	for _, e := range a.entries {
		if u := e.lastUsed.Load(); u > e.flushed.Load() {
			marks[e.key.ID] = u
			flushed = append(flushed, func() { e.flushed.Store(u) })
		}
	}
	a.mu.RUnlock()
	a.usedMu.Lock()
	for id, u := range a.used {
		if u > marks[id] {
			marks[id] = u
		}
	}
	pending := a.used
	a.used = map[string]int64{}
	a.usedMu.Unlock()
	if len(marks) == 0 {
		return nil
	}
	err := a.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for id, u := range marks {
			t := time.Unix(0, u).UTC().Truncate(time.Microsecond)
			if err := tx.Table("api_keys").Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, t).
				Update("last_used_at", t).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Put the marks back for the next flush.
		a.usedMu.Lock()
		for id, u := range pending {
			if u > a.used[id] {
				a.used[id] = u
			}
		}
		a.usedMu.Unlock()
		return err
	}
	for _, f := range flushed {
		f()
	}
	return nil
}

// RunFlusher flushes last-use times every interval (0 means 5s) until ctx is
// cancelled, then once more so a clean shutdown loses nothing.
func (a *KeyAuthenticator) RunFlusher(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := a.FlushLastUsed(fctx); err != nil {
				a.logger.WarnContext(fctx, "final last_used_at flush failed", "error", err)
			}
			cancel()
			return
		case <-t.C:
			if err := a.FlushLastUsed(ctx); err != nil {
				a.logger.WarnContext(ctx, "last_used_at flush failed; will retry", "error", err)
			}
		}
	}
}
