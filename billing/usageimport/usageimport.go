// Package usageimport reads another gateway's usage export (OpenRouter's
// activity CSV, the OpenAI organization usage API's completions JSON) into
// imported history: rows the ledger stores apart from served usage, shown in
// analytics, projections and the routing what-if, never invoiced or counted
// against a budget. A file imports whole or not at all: every malformed row is
// reported by its line and nothing is written.
package usageimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Format is an export format.
type Format string

// Accepted formats (docs/usage-import.md describes each exactly).
const (
	// FormatOpenRouter is OpenRouter's activity export: CSV, one generation a row.
	FormatOpenRouter Format = "openrouter"
	// FormatOpenAI is the OpenAI organization usage API's completions answer
	// (GET /v1/organization/usage/completions, bucket_width=1d, group_by
	// including model): one page, an array of pages, or pages one after another.
	FormatOpenAI Format = "openai"
)

// CostSource values of an imported row.
const (
	CostFromExport  = "export"
	CostFromCatalog = "catalog"
)

// maxText bounds a stored name (model, key, user) in bytes.
const maxText = 256

// MaxListedProblems bounds how many malformed rows one error lists; the count
// of the rest follows.
const MaxListedProblems = 1000

// Pricer resolves an export's model names to catalog models and prices their
// tokens (the tenant's catalog, negotiated prices included). It is the seam
// to routing, which billing does not import.
type Pricer interface {
	// Price returns the catalog id name stands for and the cost of the tokens
	// (cached is part of input) at its prices; ok is false when the catalog
	// has no such model.
	Price(name string, input, cached, output int64) (id string, cost billing.NanoUSD, ok bool)
}

// Problem is one malformed row: the file's line it starts on and what is wrong.
type Problem struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// String is the problem as one line: "line 4: tokens_prompt ...".
func (p Problem) String() string { return "line " + strconv.Itoa(p.Line) + ": " + p.Message }

// MalformedError reports every malformed row of a file; nothing was imported.
type MalformedError struct {
	Problems []Problem
}

// Error is a summary line followed by one line per problem (at most
// MaxListedProblems).
func (e *MalformedError) Error() string {
	var sb strings.Builder
	n := len(e.Problems)
	fmt.Fprintf(&sb, "%d malformed %s; nothing was imported; fix %s and import the file again", n, plural(n, "row", "rows"), plural(n, "it", "them"))
	for i, p := range e.Problems {
		if i == MaxListedProblems {
			fmt.Fprintf(&sb, "\n... and %d more", n-MaxListedProblems)
			break
		}
		sb.WriteString("\n" + p.String())
	}
	return sb.String()
}

// Unwrap makes the error Invalid with its full text as the public message.
func (e *MalformedError) Unwrap() error { return errkind.New(errkind.Invalid, "%s", e.Error()) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Input is one import.
type Input struct {
	Format Format
	// FileName is recorded with the run ("" for stdin or a raw body).
	FileName string
	Data     []byte
	// Actor is who imported (recorded with the run and in the audit log).
	Actor string
	// Now stamps the run; zero means time.Now.
	Now    time.Time
	DryRun bool
}

// Validate reports every problem with the input.
func (in Input) Validate() error {
	var errs []error
	switch in.Format {
	case FormatOpenRouter, FormatOpenAI:
	case "":
		errs = append(errs, errkind.InvalidParam("format", "format is required: openrouter or openai"))
	default:
		errs = append(errs, errkind.InvalidParam("format", "format %q is not openrouter or openai", in.Format))
	}
	if len(in.Data) == 0 {
		errs = append(errs, errkind.InvalidParam("file", "the export file is empty"))
	}
	if !utf8.ValidString(in.FileName) || strings.ContainsRune(in.FileName, 0) || len(in.FileName) > maxText {
		errs = append(errs, errkind.InvalidParam("file_name", "the file name must be UTF-8 text of at most %d bytes", maxText))
	}
	return errkind.JoinInvalid("invalid usage import", errs)
}

// Parse reads an export into rows, resolving models and costs with p. Any
// malformed row makes it return a *MalformedError listing them all.
func Parse(in Input, p Pricer) ([]ledger.ImportedRow, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var (
		raws     []rawRow
		problems []Problem
	)
	switch in.Format {
	case FormatOpenRouter:
		raws, problems = parseOpenRouter(in.Data)
	case FormatOpenAI:
		raws, problems = parseOpenAI(in.Data)
	}
	rows := make([]ledger.ImportedRow, 0, len(raws))
	byKey := make(map[string]int, len(raws))
	for _, r := range raws {
		row, msg := r.resolve(in.Format, p)
		if msg != "" {
			problems = append(problems, Problem{r.line, msg})
			continue
		}
		if first, dup := byKey[row.Key]; dup {
			if rows[first].ContentHash != row.ContentHash {
				problems = append(problems, Problem{r.line, fmt.Sprintf("repeats the row of line %d (%s) with other figures; keep one", raws[first].line, r.identity)})
			}
			continue // an exact repeat counts once
		}
		byKey[row.Key] = len(rows)
		rows = append(rows, row)
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &MalformedError{Problems: problems}
	}
	if len(rows) == 0 {
		return nil, errkind.InvalidParam("file", "the export has no usage rows; nothing was imported")
	}
	return rows, nil
}

// Import parses an export and stores it as the tenant's imported history in
// one transaction (see ledger.Import): all rows or none.
func Import(ctx context.Context, h *tenants.Handle, p Pricer, in Input) (ledger.ImportResult, error) {
	rows, err := Parse(in, p)
	if err != nil {
		return ledger.ImportResult{}, err
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	sum := sha256.Sum256(in.Data)
	return ledger.Import(ctx, h, ledger.ImportInput{ID: ulid.Make().String(), Actor: in.Actor, Now: now, Format: string(in.Format),
		FileName: in.FileName, FileSHA256: hex.EncodeToString(sum[:]), Rows: rows, DryRun: in.DryRun})
}

// rawRow is a parsed row before its model and cost are resolved.
type rawRow struct {
	line int
	// identity names the row in its export, for messages and the row key.
	identity string
	at       time.Time
	model    string
	keyName  string
	user     string
	requests int64
	input    int64
	cached   int64
	output   int64
	// cost is the export's cost; hasCost false when it has none.
	cost    billing.NanoUSD
	hasCost bool
}

// resolve prices the row and derives its key and content hash; a non-empty
// message says why it cannot be imported.
func (r rawRow) resolve(f Format, p Pricer) (ledger.ImportedRow, string) {
	// Stored text must be text: a NUL or invalid UTF-8 would fail the
	// insert on Postgres (a 500 instead of this row's line).
	for _, t := range []struct{ name, v string }{{"model", r.model}, {"key", r.keyName}, {"user", r.user}} {
		if !utf8.ValidString(t.v) || strings.ContainsRune(t.v, 0) {
			return ledger.ImportedRow{}, t.name + " is not UTF-8 text (or holds a NUL byte)"
		}
		if len(t.v) > maxText {
			return ledger.ImportedRow{}, fmt.Sprintf("%s is over %d bytes", t.name, maxText)
		}
	}
	row := ledger.ImportedRow{Format: string(f), CreatedAt: r.at.UTC(), Model: r.model, ExportModel: r.model, Requests: r.requests,
		InputTokens: r.input, CachedTokens: r.cached, OutputTokens: r.output, Cost: r.cost, CostSource: CostFromExport}
	id, cost, ok := p.Price(r.model, r.input, r.cached, r.output)
	if ok {
		row.Model = id
	}
	if !r.hasCost {
		if !ok {
			return row, fmt.Sprintf("model %q is not in the catalog and the row has no cost; add the model's prices (Models page) and import again", r.model)
		}
		row.Cost, row.CostSource = cost, CostFromCatalog
	}
	if r.keyName != "" {
		row.KeyID = "imported:" + r.keyName
	} else {
		row.KeyID = "imported:" + string(f)
	}
	if r.user != "" {
		row.MemberID = "imported:" + r.user
	}
	row.Key = hash(string(f), r.identity)
	row.ContentHash = hash(row.CreatedAt.Format(time.RFC3339Nano), row.Model, row.ExportModel, row.KeyID, row.MemberID,
		strconv.FormatInt(row.Requests, 10), strconv.FormatInt(row.InputTokens, 10), strconv.FormatInt(row.CachedTokens, 10),
		strconv.FormatInt(row.OutputTokens, 10), strconv.FormatInt(int64(row.Cost), 10), row.CostSource)
	return row, ""
}

// hash is the hex SHA-256 of parts joined by NUL (which no part contains).
func hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func sortProblems(ps []Problem) {
	// Problems come by stage (parse, then resolve); the report reads by line.
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}
