package usageimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-dev/tollgate/billing"
)

// openRouterColumns maps each field to the header names it is read from, first
// match wins (OpenRouter's activity export names first, then common aliases).
var openRouterColumns = map[string][]string{
	"id":       {"generation_id", "id"},
	"time":     {"created_at", "timestamp", "date"},
	"model":    {"model_permaslug", "model", "model_slug"},
	"input":    {"tokens_prompt", "prompt_tokens", "input_tokens"},
	"output":   {"tokens_completion", "completion_tokens", "output_tokens"},
	"cached":   {"tokens_cached", "cached_tokens"},
	"cost":     {"cost_total", "cost", "total_cost", "usage"},
	"requests": {"requests"},
	"key":      {"api_key_name", "api_key", "key_name"},
	"user":     {"user", "user_id"},
}

// parseOpenRouter reads OpenRouter's activity CSV: a header row, then one
// generation per row (or one aggregate per row when a requests column is
// present). Every malformed row becomes one problem.
func parseOpenRouter(data []byte) ([]rawRow, []Problem) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, []Problem{{1, "the file does not start with a CSV header row (generation_id,created_at,model_permaslug,tokens_prompt,...)"}}
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		for field, names := range openRouterColumns {
			for rank, n := range names {
				if name != n {
					continue
				}
				// Keep the column whose name comes first in the alias list.
				if prev, ok := col[field]; !ok || rank < aliasRank(field, header[prev]) {
					col[field] = i
				}
			}
		}
	}
	var missing []string
	for _, f := range []string{"time", "model", "input", "output"} {
		if _, ok := col[f]; !ok {
			missing = append(missing, openRouterColumns[f][0])
		}
	}
	if len(missing) > 0 {
		return nil, []Problem{{1, "the header has no " + strings.Join(missing, ", ") + " column; is this an OpenRouter activity export?"}}
	}
	var rows []rawRow
	var problems []Problem
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			problems = append(problems, Problem{pe.StartLine, "is not valid CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			problems = append(problems, Problem{0, "the file cannot be read: " + err.Error()})
			break
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			problems = append(problems, Problem{line, fmt.Sprintf("has %d fields; the header has %d", len(rec), len(header))})
			continue
		}
		row, errs := openRouterRow(rec, col)
		if len(errs) > 0 {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			problems = append(problems, Problem{line, strings.Join(msgs, "; ")})
			continue
		}
		row.line = line
		rows = append(rows, row)
	}
	return rows, problems
}

func aliasRank(field, header string) int {
	name := strings.ToLower(strings.TrimSpace(header))
	for rank, n := range openRouterColumns[field] {
		if n == name {
			return rank
		}
	}
	return len(openRouterColumns[field])
}

// openRouterRow reads one record; it returns every problem of the row.
func openRouterRow(rec []string, col map[string]int) (rawRow, []error) {
	get := func(field string) (string, bool) {
		i, ok := col[field]
		if !ok {
			return "", false
		}
		return strings.TrimSpace(rec[i]), true
	}
	var errs []error
	var row rawRow
	ts, _ := get("time")
	at, err := parseTime("created_at", ts)
	errs = appendErr(errs, err)
	row.at = at
	row.model, _ = get("model")
	if row.model == "" {
		errs = append(errs, errors.New("model is empty"))
	}
	in, _ := get("input")
	row.input, err = parseCount("tokens_prompt", in, false)
	errs = appendErr(errs, err)
	out, _ := get("output")
	row.output, err = parseCount("tokens_completion", out, false)
	errs = appendErr(errs, err)
	if c, ok := get("cached"); ok {
		row.cached, err = parseCount("tokens_cached", c, true)
		errs = appendErr(errs, err)
		if err == nil && row.cached > row.input {
			errs = append(errs, fmt.Errorf("tokens_cached %d is more than tokens_prompt %d", row.cached, row.input))
		}
	}
	row.requests = 1
	_, aggregate := col["requests"]
	if aggregate {
		rq, _ := get("requests")
		row.requests, err = parseCount("requests", rq, false)
		errs = appendErr(errs, err)
	}
	if c, ok := get("cost"); ok && c != "" {
		var cost billing.NanoUSD
		cost, err = parseCost("cost_total", c)
		errs = appendErr(errs, err)
		row.cost, row.hasCost = cost, err == nil
	}
	row.keyName, _ = get("key")
	row.user, _ = get("user")
	id, _ := get("id")
	switch {
	case id != "":
		row.identity = "generation " + id
	case aggregate:
		// A daily aggregate is the model's usage of a key and user that day:
		// a later export of the same day replaces it.
		row.identity = strings.Join([]string{"aggregate", row.at.Format("2006-01-02T15:04:05"), row.model, row.keyName, row.user}, " ")
	default:
		// No id: the row's whole content is its identity (an identical row
		// in the same file counts once).
		row.identity = strings.Join(rec, ",")
	}
	return row, errs
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}
