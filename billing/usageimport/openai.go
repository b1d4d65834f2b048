package usageimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// openAIResult is one result of a completions usage bucket. Pointers tell a
// missing or null field from a zero.
type openAIResult struct {
	InputTokens       *json.Number `json:"input_tokens"`
	OutputTokens      *json.Number `json:"output_tokens"`
	InputCachedTokens *json.Number `json:"input_cached_tokens"`
	NumModelRequests  *json.Number `json:"num_model_requests"`
	Model             *string      `json:"model"`
	ProjectID         *string      `json:"project_id"`
	UserID            *string      `json:"user_id"`
	APIKeyID          *string      `json:"api_key_id"`
	Batch             *bool        `json:"batch"`
	ServiceTier       *string      `json:"service_tier"`
}

// jsonWalk reads the OpenAI shape token by token, so each result keeps the
// line it starts on.
type jsonWalk struct {
	data     []byte
	dec      *json.Decoder
	rows     []rawRow
	problems []Problem
}

// lineAt is the 1-based line of the first value byte at or after offset.
func (w *jsonWalk) lineAt(off int64) int {
	i := int(off)
	for i < len(w.data) && strings.IndexByte(" \t\r\n,:", w.data[i]) >= 0 {
		i++
	}
	return 1 + bytes.Count(w.data[:min(i, len(w.data))], []byte("\n"))
}

// parseOpenAI reads completions usage pages: one page object, an array of
// pages, or several pages one after another (what paging through has_more
// with next_page and concatenating the answers gives).
func parseOpenAI(data []byte) ([]rawRow, []Problem) {
	w := &jsonWalk{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.top(); err != nil {
		line := w.lineAt(w.dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		}
		w.problems = append(w.problems, Problem{line, err.Error()})
	}
	return w.rows, w.problems
}

var errShape = errors.New(`is not a completions usage page ({"object":"page","data":[{"start_time":...,"end_time":...,"results":[...]}]})`)

func (w *jsonWalk) delim() (json.Delim, error) {
	t, err := w.dec.Token()
	if err != nil {
		return 0, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return 0, errShape
	}
	return d, nil
}

func (w *jsonWalk) top() error {
	pages := 0
	for {
		d, err := w.delim()
		if errors.Is(err, io.EOF) {
			if pages == 0 {
				return errors.New("the file holds no JSON")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch d {
		case '{':
			if err := w.page(); err != nil {
				return err
			}
		case '[':
			for w.dec.More() {
				if d, err := w.delim(); err != nil || d != '{' {
					return errors.Join(errShape, err)
				}
				if err := w.page(); err != nil {
					return err
				}
			}
			if _, err := w.dec.Token(); err != nil {
				return err
			}
		default:
			return errShape
		}
		pages++
	}
}

// page reads a page object after its '{'.
func (w *jsonWalk) page() error {
	sawData := false
	for w.dec.More() {
		k, err := w.dec.Token()
		if err != nil {
			return err
		}
		if k != "data" {
			var skip json.RawMessage
			if err := w.dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		sawData = true
		if d, err := w.delim(); err != nil || d != '[' {
			return errors.Join(errShape, err)
		}
		for w.dec.More() {
			line := w.lineAt(w.dec.InputOffset())
			if d, err := w.delim(); err != nil || d != '{' {
				return errors.Join(errShape, err)
			}
			if err := w.bucket(line); err != nil {
				return err
			}
		}
		if _, err := w.dec.Token(); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return err
	}
	if !sawData {
		return errShape
	}
	return nil
}

type lined struct {
	line int
	raw  json.RawMessage
}

// bucket reads a bucket object after its '{'. Its results are checked once
// the bucket's times are known (fields may come in any order).
func (w *jsonWalk) bucket(line int) error {
	var start, end *json.Number
	var results []lined
	for w.dec.More() {
		k, err := w.dec.Token()
		if err != nil {
			return err
		}
		switch k {
		case "start_time", "end_time":
			var n json.Number
			if err := w.dec.Decode(&n); err != nil {
				return fmt.Errorf("bucket %s is not a number", k)
			}
			if k == "start_time" {
				start = &n
			} else {
				end = &n
			}
		case "results", "result":
			if d, err := w.delim(); err != nil || d != '[' {
				return errors.Join(errShape, err)
			}
			for w.dec.More() {
				l := w.lineAt(w.dec.InputOffset())
				var raw json.RawMessage
				if err := w.dec.Decode(&raw); err != nil {
					return err
				}
				results = append(results, lined{l, raw})
			}
			if _, err := w.dec.Token(); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := w.dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return err
	}
	day, err := bucketDay(start, end)
	if err != nil {
		// One problem for the bucket; its results cannot be placed in time.
		w.problems = append(w.problems, Problem{line, err.Error()})
		return nil
	}
	for _, r := range results {
		row, errs := openAIRow(r.raw, day)
		if len(errs) > 0 {
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			w.problems = append(w.problems, Problem{r.line, strings.Join(msgs, "; ")})
			continue
		}
		if row.requests == 0 && row.input == 0 && row.output == 0 {
			continue // an empty group carries no usage
		}
		row.line = r.line
		w.rows = append(w.rows, row)
	}
	return nil
}

// bucketDay checks that a bucket is one UTC day (bucket_width=1d from a
// midnight start_time) and returns its start. Daily buckets are required so
// that a row's identity (its day and grouping) is the same in every export:
// hourly and daily buckets of one day would otherwise both count.
func bucketDay(start, end *json.Number) (time.Time, error) {
	if start == nil || end == nil {
		return time.Time{}, errors.New("bucket has no start_time or end_time")
	}
	s, err1 := start.Int64()
	e, err2 := end.Int64()
	if err1 != nil || err2 != nil {
		return time.Time{}, errors.New("bucket start_time and end_time must be whole Unix seconds")
	}
	if s%86400 != 0 || e-s != 86400 {
		return time.Time{}, fmt.Errorf("bucket %s to %s is not one UTC day; export with bucket_width=1d and a start_time at 00:00 UTC",
			time.Unix(s, 0).UTC().Format(time.RFC3339), time.Unix(e, 0).UTC().Format(time.RFC3339))
	}
	return time.Unix(s, 0).UTC(), nil
}

// openAIRow reads one result of a bucket that starts at day.
func openAIRow(raw json.RawMessage, day time.Time) (rawRow, []error) {
	var res openAIResult
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return rawRow{}, []error{errors.New("result is not an object of the completions usage shape")}
	}
	var errs []error
	count := func(name string, n *json.Number) int64 {
		if n == nil {
			errs = append(errs, fmt.Errorf("%s is missing", name))
			return 0
		}
		v, err := parseCount(name, n.String(), false)
		errs = appendErr(errs, err)
		return v
	}
	row := rawRow{at: day}
	row.input = count("input_tokens", res.InputTokens)
	row.output = count("output_tokens", res.OutputTokens)
	row.requests = count("num_model_requests", res.NumModelRequests)
	if res.InputCachedTokens != nil {
		row.cached = count("input_cached_tokens", res.InputCachedTokens)
		if row.cached > row.input {
			errs = append(errs, fmt.Errorf("input_cached_tokens %d is more than input_tokens %d", row.cached, row.input))
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	row.model = str(res.Model)
	if row.model == "" {
		errs = append(errs, errors.New("model is missing; export with group_by=model"))
	}
	row.keyName = str(res.APIKeyID)
	if row.keyName == "" {
		row.keyName = str(res.ProjectID)
	}
	row.user = str(res.UserID)
	batch := ""
	if res.Batch != nil && *res.Batch {
		batch = "batch"
	}
	row.identity = strings.Join([]string{"bucket", day.Format("2006-01-02"), row.model, str(res.ProjectID), row.user, str(res.APIKeyID),
		batch, str(res.ServiceTier)}, " ")
	return row, errs
}
