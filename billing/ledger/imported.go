package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// APIImported is the api value of imported history in the daily rollups. No
// served request has it, so SeriesQuery's Source tells the two apart with one
// predicate, and budgets, the reconcile and invoices (SourceServed) never read it.
const APIImported = "imported"

// ImportedRow is one row of another gateway's usage export, ready to store.
// Imported rows live in usage_imported_rows, never in usage_events: nothing
// that reads served events (budgets, the reconcile's ground truth, the request
// explorer, the hard-limit preview) can count them.
type ImportedRow struct {
	// Key identifies the row in its export (a hash of OpenRouter's generation
	// id, of an OpenAI bucket's day and grouping): a re-import of the same row
	// updates it instead of adding it again.
	Key string
	// ContentHash is a hash of the row's figures: equal means unchanged.
	ContentHash string
	// Format is the export format ("openrouter", "openai").
	Format string
	// CreatedAt is when the usage happened (a generation's time, a bucket's start).
	CreatedAt time.Time
	// Model is the catalog id the row resolved to, or the export's name when
	// the catalog has no such model; ExportModel is the export's own name.
	Model       string
	ExportModel string
	// KeyID and MemberID attribute the row ("imported:" + the export's key or
	// user), so per-key and per-user projections have a basis.
	KeyID    string
	MemberID string
	// Requests is how many requests the row stands for (1 for a generation).
	Requests int64
	// Token counts; CachedTokens are part of InputTokens.
	InputTokens, CachedTokens, OutputTokens int64
	// Cost in nano-USD; CostSource says where it came from ("export", "catalog").
	Cost       billing.NanoUSD
	CostSource string
}

// Day is the row's UTC day, its rollup key.
func (r ImportedRow) Day() string { return r.CreatedAt.UTC().Format("2006-01-02") }

// ImportInput is one import run.
type ImportInput struct {
	// ID names the run (a ULID); Actor who ran it; Now when.
	ID    string
	Actor string
	Now   time.Time
	// Format, FileName and FileSHA256 describe the file, for the run's record.
	Format     string
	FileName   string
	FileSHA256 string
	// Rows are the file's rows, keys unique.
	Rows []ImportedRow
	// DryRun classifies the rows (new, updated, unchanged) and writes nothing.
	DryRun bool
}

// Validate reports every problem with the input.
func (in ImportInput) Validate() error {
	var errs []error
	if in.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if in.Format == "" {
		errs = append(errs, errors.New("format is required"))
	}
	seen := make(map[string]bool, len(in.Rows))
	for i, r := range in.Rows {
		if r.Key == "" || r.ContentHash == "" {
			errs = append(errs, fmt.Errorf("row %d has no key or content hash", i+1))
		}
		if seen[r.Key] {
			errs = append(errs, fmt.Errorf("row %d repeats a key of an earlier row", i+1))
		}
		seen[r.Key] = true
	}
	return errkind.JoinInvalid("invalid usage import", errs)
}

// ImportResult is what an import run changed (or, dry, would change).
type ImportResult struct {
	ID     string `json:"id"`
	DryRun bool   `json:"dry_run"`
	// Rows is how many rows the file held; New were not imported before;
	// Updated were, with other figures (the newer export wins); Unchanged were,
	// identically, and are skipped.
	Rows      int `json:"rows"`
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Requests, Cost and the token totals are the file's, new and old rows alike.
	Requests     int64           `json:"requests"`
	InputTokens  int64           `json:"input_tokens"`
	OutputTokens int64           `json:"output_tokens"`
	Cost         billing.NanoUSD `json:"cost_nano"`
	// From and To are the first and last UTC day of the file's usage.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// importChunk bounds the rows of one statement (16 parameters a row stays far
// under SQLite's and Postgres's parameter limits).
const importChunk = 400

// rollupChunk bounds the rollup groups of one upsert (12 parameters each).
const rollupChunk = 2000

// Import stores an export's rows as imported history in one transaction:
// every row lands, with its rollups and the run's record, or none does. Rows
// already imported with the same figures are skipped; rows already imported
// with other figures replace the old ones (their rollups move by the
// difference), so re-importing a file, or an export that overlaps an earlier
// one, never counts a row twice.
func Import(ctx context.Context, h *tenants.Handle, in ImportInput) (ImportResult, error) {
	if err := in.Validate(); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{ID: in.ID, DryRun: in.DryRun, Rows: len(in.Rows)}
	for _, r := range in.Rows {
		res.Requests += r.Requests
		res.InputTokens += r.InputTokens
		res.OutputTokens += r.OutputTokens
		res.Cost += r.Cost
		if d := r.Day(); res.From == "" || d < res.From {
			res.From = d
		}
		if d := r.Day(); d > res.To {
			res.To = d
		}
	}
	errDry := errors.New("dry run")
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		old, err := existingImported(tx, in.Rows)
		if err != nil {
			return err
		}
		groups := map[rollupKey]*rollupRow{}
		var order []rollupKey
		add := func(r ImportedRow, sign int64) {
			k := rollupKey{r.Day(), r.Model, r.KeyID, r.MemberID, APIImported}
			g, ok := groups[k]
			if !ok {
				g = &rollupRow{}
				groups[k] = g
				order = append(order, k)
			}
			g.requests += sign * r.Requests
			g.input += sign * r.InputTokens
			g.cached += sign * r.CachedTokens
			g.output += sign * r.OutputTokens
			g.cost += sign * int64(r.Cost)
		}
		var fresh, changed []ImportedRow
		for _, r := range in.Rows {
			prev, ok := old[r.Key]
			switch {
			case !ok:
				fresh = append(fresh, r)
				add(r, 1)
			case prev.ContentHash != r.ContentHash:
				changed = append(changed, r)
				add(prev, -1)
				add(r, 1)
			default:
				res.Unchanged++
			}
		}
		res.New, res.Updated = len(fresh), len(changed)
		if in.DryRun {
			return errDry
		}
		keys := make([]string, len(changed))
		for i, r := range changed {
			keys[i] = r.Key
		}
		for start := 0; start < len(keys); start += importChunk {
			if err := tx.Exec("DELETE FROM usage_imported_rows WHERE row_key IN ?", keys[start:min(start+importChunk, len(keys))]).Error; err != nil {
				return err
			}
		}
		if err := insertImported(tx, in.ID, append(fresh, changed...)); err != nil {
			return err
		}
		// A file may touch many (day, model, key, member) groups: 12 parameters
		// each, chunked under Postgres's 65,535 and SQLite's 32,766.
		for start := 0; start < len(order); start += rollupChunk {
			if err := upsertRollupRows(tx, order[start:min(start+rollupChunk, len(order))], groups); err != nil {
				return err
			}
		}
		return tx.Exec(`INSERT INTO usage_imports (id, created_at, format, file_name, file_sha256, actor, rows_total, rows_new, rows_updated, rows_unchanged, cost_nano)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, in.ID, in.Now.UTC(), in.Format, in.FileName, in.FileSHA256, in.Actor,
			res.Rows, res.New, res.Updated, res.Unchanged, int64(res.Cost)).Error
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return res, err
}

// existingImported returns the stored rows among rows' keys.
func existingImported(tx *gorm.DB, rows []ImportedRow) (map[string]ImportedRow, error) {
	out := map[string]ImportedRow{}
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		keys := make([]string, len(chunk))
		for i, r := range chunk {
			keys[i] = r.Key
		}
		var got []importedRowRecord
		if err := tx.Table("usage_imported_rows").Where("row_key IN ?", keys).Find(&got).Error; err != nil {
			return nil, err
		}
		for _, g := range got {
			out[g.RowKey] = g.row()
		}
	}
	return out, nil
}

// importedRowRecord is the gorm shape of usage_imported_rows.
type importedRowRecord struct {
	RowKey        string
	ContentSha256 string `gorm:"column:content_sha256"`
	ImportID      string
	Format        string
	CreatedAt     time.Time
	Day           string
	Model         string
	ExportModel   string
	KeyID         string
	MemberID      string
	Requests      int64
	InputTokens   int64
	CachedTokens  int64
	OutputTokens  int64
	CostNano      int64
	CostSource    string
}

func (g importedRowRecord) row() ImportedRow {
	return ImportedRow{Key: g.RowKey, ContentHash: g.ContentSha256, Format: g.Format, CreatedAt: g.CreatedAt.UTC(), Model: g.Model,
		ExportModel: g.ExportModel, KeyID: g.KeyID, MemberID: g.MemberID, Requests: g.Requests, InputTokens: g.InputTokens,
		CachedTokens: g.CachedTokens, OutputTokens: g.OutputTokens, Cost: billing.NanoUSD(g.CostNano), CostSource: g.CostSource}
}

func insertImported(tx *gorm.DB, importID string, rows []ImportedRow) error {
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		recs := make([]importedRowRecord, len(chunk))
		for i, r := range chunk {
			recs[i] = importedRowRecord{RowKey: r.Key, ContentSha256: r.ContentHash, ImportID: importID, Format: r.Format,
				CreatedAt: r.CreatedAt.UTC(), Day: r.Day(), Model: r.Model, ExportModel: r.ExportModel, KeyID: r.KeyID, MemberID: r.MemberID,
				Requests: r.Requests, InputTokens: r.InputTokens, CachedTokens: r.CachedTokens, OutputTokens: r.OutputTokens,
				CostNano: int64(r.Cost), CostSource: r.CostSource}
		}
		if err := tx.Table("usage_imported_rows").Create(&recs).Error; err != nil {
			return err
		}
	}
	return nil
}

// ImportedSince returns up to limit imported rows whose usage happened at or
// after since, newest first: the history a routing what-if replays beside
// served events.
func ImportedSince(ctx context.Context, h *tenants.Handle, since time.Time, limit int) ([]ImportedRow, error) {
	if limit <= 0 || limit > 200_000 {
		return nil, errkind.New(errkind.Invalid, "imported sample limit must be between 1 and 200000")
	}
	var got []importedRowRecord
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Table("usage_imported_rows").Where("created_at >= ?", since.UTC()).
			Order("created_at DESC, row_key DESC").Limit(limit).Find(&got).Error
	})
	out := make([]ImportedRow, len(got))
	for i, g := range got {
		out[i] = g.row()
	}
	return out, err
}

// ImportRecord is one past import run.
type ImportRecord struct {
	ID        string          `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Format    string          `json:"format"`
	FileName  string          `json:"file_name"`
	Actor     string          `json:"actor"`
	Rows      int64           `json:"rows"`
	New       int64           `json:"new"`
	Updated   int64           `json:"updated"`
	Unchanged int64           `json:"unchanged"`
	Cost      billing.NanoUSD `json:"cost_nano"`
}

// Imports lists the tenant's import runs, newest first, at most limit (1–500).
func Imports(ctx context.Context, h *tenants.Handle, limit int) ([]ImportRecord, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	type rec struct {
		ID, Format, FileName, Actor                              string
		CreatedAt                                                time.Time
		RowsTotal, RowsNew, RowsUpdated, RowsUnchanged, CostNano int64
	}
	var got []rec
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Table("usage_imports").Order("created_at DESC, id DESC").Limit(limit).Find(&got).Error
	})
	out := make([]ImportRecord, len(got))
	for i, g := range got {
		out[i] = ImportRecord{ID: g.ID, CreatedAt: g.CreatedAt.UTC(), Format: g.Format, FileName: g.FileName, Actor: g.Actor,
			Rows: g.RowsTotal, New: g.RowsNew, Updated: g.RowsUpdated, Unchanged: g.RowsUnchanged, Cost: billing.NanoUSD(g.CostNano)}
	}
	return out, err
}
