package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/tenants"
)

// keptSavepoint isolates the kept prompts of a batch from its usage.
const keptSavepoint = "kept_prompts"

// insertKept stores the sealed turns of served events that carry one, skipping
// request ids already kept. It runs behind a savepoint: on failure it rolls
// back to it and returns the error, leaving the transaction usable for the
// usage rows.
func insertKept(tx *gorm.DB, events []Event) error {
	var sb strings.Builder
	var args []any
	ph := newPlaceholders(tx)
	for _, e := range events {
		if e.KeptTurn == "" {
			continue
		}
		if len(args) == 0 {
			sb.WriteString("INSERT INTO kept_prompts (request_id, created_at, turn_sealed) VALUES ")
		} else {
			sb.WriteByte(',')
		}
		ph.row(&sb, 3)
		args = append(args, e.RequestID, e.CreatedAt.UTC(), e.KeptTurn)
	}
	if len(args) == 0 {
		return nil
	}
	sb.WriteString(" ON CONFLICT (request_id) DO NOTHING")
	if err := tx.SavePoint(keptSavepoint).Error; err != nil {
		return err
	}
	// On the connection, not through gorm's Exec: its logger would render the
	// statement with the (sealed) values inlined.
	if _, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, sb.String(), args...); err != nil {
		if rb := tx.RollbackTo(keptSavepoint).Error; rb != nil {
			return fmt.Errorf("%w (and rollback to savepoint: %v)", err, rb)
		}
		return fmt.Errorf("%d kept prompts dropped: %w", len(args)/3, err)
	}
	return nil
}

// KeptTurns returns the sealed turns kept for the given request ids (request
// id → sealed text); ids without one are absent. Only the what-if reads them.
func KeptTurns(ctx context.Context, h *tenants.Handle, requestIDs []string) (map[string]string, error) {
	out := make(map[string]string)
	const chunk = 500 // bind parameters per query stay far below either database's limit
	err := h.Read(ctx, func(db *gorm.DB) error {
		for i := 0; i < len(requestIDs); i += chunk {
			ids := requestIDs[i:min(i+chunk, len(requestIDs))]
			var rows []struct{ RequestID, TurnSealed string }
			if err := db.Table("kept_prompts").Select("request_id, turn_sealed").Where("request_id IN ?", ids).
				Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				out[r.RequestID] = r.TurnSealed
			}
		}
		return nil
	})
	return out, err
}

// PurgeKeptPrompts deletes the tenant's kept prompts created before cutoff;
// the zero cutoff deletes all of them (retention turned off). It returns how
// many rows went.
func PurgeKeptPrompts(ctx context.Context, h *tenants.Handle, cutoff time.Time) (int64, error) {
	var n int64
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		n, err = PurgeKeptPromptsTx(tx, cutoff)
		return err
	})
	return n, err
}

// PurgeKeptPromptsTx is PurgeKeptPrompts inside the caller's tenant
// transaction (saving a policy that keeps fewer days, or none).
func PurgeKeptPromptsTx(tx *gorm.DB, cutoff time.Time) (int64, error) {
	var res *gorm.DB
	if cutoff.IsZero() {
		res = tx.Exec("DELETE FROM kept_prompts")
	} else {
		res = tx.Exec("DELETE FROM kept_prompts WHERE created_at < ?", cutoff.UTC())
	}
	return res.RowsAffected, res.Error
}
