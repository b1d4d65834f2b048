package access

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// TestChangeFeedPollSeesRulesWrittenBeforeFirstPoll: on SQLite a membership the CLI
// writes right after the server loaded its policy, before the feed's first poll,
// must still reach the authorizer within a poll, not at the 30 s resync.
func TestChangeFeedPollSeesRulesWrittenBeforeFirstPoll(t *testing.T) {
	b := setup(t, "sqlite")
	feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{PollInterval: 20 * time.Millisecond, ResyncInterval: time.Hour}, logging.Discard())
	var rbac atomic.Int64
	feed.Subscribe(func(_ context.Context, c tenants.Change) {
		if c.Kind == tenants.ChangeRBAC {
			rbac.Add(1)
		}
	})
	// Another process grants a role before this one's feed has polled once.
	require.NoError(t, b.db.Gorm.Exec(`INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES ('g', 'user-1', 'viewer', 'tenant-1')`).Error)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go feed.Run(ctx)
	require.Eventually(t, func() bool { return rbac.Load() > 0 }, 2*time.Second, 10*time.Millisecond,
		"a rule written before the first poll was not announced")
}
