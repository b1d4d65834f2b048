package usageimport

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// fakePricer knows a few models by catalog id, with prices in nano-USD per
// token (input, cached input, output), and resolves "vendor/" prefixes and
// snapshot dates the way the catalog does.
type fakePricer map[string][3]billing.NanoUSD

func (f fakePricer) Price(name string, in, cached, out int64) (string, billing.NanoUSD, bool) {
	name = strings.ToLower(name)
	if _, after, ok := strings.Cut(name, "/"); ok {
		name = after
	}
	for _, suffix := range []string{"-2024-08-06", "-2024-07-18"} {
		name = strings.TrimSuffix(name, suffix)
	}
	p, ok := f[name]
	if !ok {
		return "", 0, false
	}
	return name, billing.NanoUSD(in-cached)*p[0] + billing.NanoUSD(cached)*p[1] + billing.NanoUSD(out)*p[2], true
}

// prices: gpt-4o $2.50/$1.25/$10 per M, gpt-4o-mini $0.15/$0.075/$0.60 per M.
var prices = fakePricer{"gpt-4o": {2500, 1250, 10000}, "gpt-4o-mini": {150, 75, 600}}

func TestParseCost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want billing.NanoUSD
		ok   bool
	}{
		{"0.0125", 12_500_000, true},
		{"1.5e-05", 15_000, true},
		{"0.0000000015", 2, true}, // half a nano rounds up
		{"0.0000000014", 1, true},
		{"12", 12_000_000_000, true},
		{".5", 500_000_000, true},
		{"0.1", 100_000_000, true}, // exact: a float would not be
		{"-0.01", 0, false},
		{"abc", 0, false},
		{"1/3", 0, false},
		{"", 0, false},
		{"2000000", 0, false},
	} {
		got, err := parseCost("cost_total", tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseOpenRouterSample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/openrouter_activity.csv")
	require.NoError(t, err)
	rows, err := Parse(Input{Format: FormatOpenRouter, Data: data}, prices)
	require.NoError(t, err)
	require.Len(t, rows, 6)
	// Costs come from the export, exactly; models resolve to catalog ids
	// where the catalog has them and keep the export's name otherwise.
	require.Equal(t, billing.NanoUSD(12_500_000), rows[0].Cost)
	require.Equal(t, CostFromExport, rows[0].CostSource)
	require.Equal(t, "gpt-4o", rows[0].Model)
	require.Equal(t, "openai/gpt-4o-2024-08-06", rows[0].ExportModel)
	require.Equal(t, "x-ai/grok-4", rows[2].Model)
	require.Equal(t, billing.NanoUSD(15_000), rows[5].Cost)
	require.Equal(t, int64(1024), rows[1].CachedTokens)
	require.Equal(t, time.Date(2026, 11, 2, 9, 14, 3, 512_000_000, time.UTC), rows[0].CreatedAt)
	require.Equal(t, "imported:team-app", rows[0].KeyID)
	require.Equal(t, "imported:alice", rows[0].MemberID)
	keys := map[string]bool{}
	for _, r := range rows {
		require.Equal(t, int64(1), r.Requests)
		keys[r.Key] = true
	}
	require.Len(t, keys, 6, "each generation has its own key")
}

func TestParseOpenAISample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/openai_usage_completions.json")
	require.NoError(t, err)
	rows, err := Parse(Input{Format: FormatOpenAI, Data: data}, prices)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	r := rows[0]
	require.Equal(t, "gpt-4o", r.Model)
	require.Equal(t, int64(100), r.Requests)
	require.Equal(t, "2025-11-01", r.Day())
	// No cost in this format: the catalog prices it, cached input at its price.
	require.Equal(t, CostFromCatalog, r.CostSource)
	require.Equal(t, billing.NanoUSD(220_000*2500+120_000*1250+31_000*10000), r.Cost)
	require.Equal(t, "imported:key_support_bot", r.KeyID)
	require.Equal(t, "2025-11-02", rows[2].Day())

	// The same file as an array of pages, and as two pages one after the
	// other, reads the same rows.
	arr := append(append([]byte("["), data...), ']')
	again, err := Parse(Input{Format: FormatOpenAI, Data: arr}, prices)
	require.NoError(t, err)
	require.Equal(t, rows, again)
	twice, err := Parse(Input{Format: FormatOpenAI, Data: append(append([]byte{}, data...), data...)}, prices)
	require.NoError(t, err)
	require.Equal(t, rows, twice, "an exact repeat counts once")
}

// TestParseReportsEveryMalformedRow: every bad row is one problem naming its
// line, in line order, and nothing is returned.
func TestParseReportsEveryMalformedRow(t *testing.T) {
	t.Parallel()
	csv := strings.Join([]string{
		"generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,tokens_cached,cost_total",
		"g1,2026-11-02 09:00:00,openai/gpt-4o,100,10,0,0.001",
		"g2,yesterday,openai/gpt-4o,100,10,0,0.001",
		"g3,2026-11-02 09:00:00,,100,10,0,0.001",
		"g4,2026-11-02 09:00:00,openai/gpt-4o,-5,10,0,0.001",
		"g5,2026-11-02 09:00:00,openai/gpt-4o,100,10,200,0.001",
		"g6,2026-11-02 09:00:00,acme/unknown-model,100,10,0,",
		"g7,2026-11-02 09:00:00,openai/gpt-4o,100,10,0,$1",
		"g8,2026-11-02 09:00:00,openai/gpt-4o,100,10",
		"g1,2026-11-02 09:00:00,openai/gpt-4o,100,11,0,0.001",
		"g9,2026-11-02 09:00:00,openai/gpt-4o,100,10,0,",
		"g10,2026-11-02 09:00:00,openai/gpt\x00-4o,100,10,0,0.001",
		"g11,2026-11-02 09:00:00,openai/gpt-4o\xff,100,10,0,0.001",
	}, "\n")
	_, err := Parse(Input{Format: FormatOpenRouter, Data: []byte(csv)}, prices)
	var me *MalformedError
	require.ErrorAs(t, err, &me)
	require.True(t, errors.Is(err, errkind.Invalid))
	lines := make([]int, len(me.Problems))
	for i, p := range me.Problems {
		lines[i] = p.Line
	}
	require.Equal(t, []int{3, 4, 5, 6, 7, 8, 9, 10, 12, 13}, lines)
	msg := err.Error()
	require.True(t, strings.HasPrefix(msg, "10 malformed rows; nothing was imported"), msg)
	for _, want := range []string{
		"line 3: created_at \"yesterday\" is not a time",
		"line 4: model is empty",
		"line 5: tokens_prompt \"-5\" is not a whole number",
		"line 6: tokens_cached 200 is more than tokens_prompt 100",
		"line 7: model \"acme/unknown-model\" is not in the catalog and the row has no cost",
		"line 8: cost_total \"$1\" is not a dollar amount",
		"line 9: has 5 fields; the header has 7",
		"line 10: repeats the row of line 2",
		"line 12: model is not UTF-8 text (or holds a NUL byte)",
		"line 13: model is not UTF-8 text (or holds a NUL byte)",
	} {
		require.Contains(t, msg, want)
	}
	require.Len(t, strings.Split(msg, "\n"), 11, "a summary line and one line per malformed row")
}

func TestParseOpenAIProblems(t *testing.T) {
	t.Parallel()
	doc := `{"object":"page","data":[
  {"start_time": 1761955200, "end_time": 1762041600, "results": [
    {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"},
    {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "model": null},
    {"input_tokens": 1.5, "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"}
  ]},
  {"start_time": 1761958800, "end_time": 1761962400, "results": [
    {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"}
  ]}
]}`
	_, err := Parse(Input{Format: FormatOpenAI, Data: []byte(doc)}, prices)
	var me *MalformedError
	require.ErrorAs(t, err, &me)
	require.Equal(t, []Problem{
		{4, "model is missing; export with group_by=model"},
		{5, "input_tokens \"1.5\" is not a whole number from 0 to 1000000000000"},
		{7, "bucket 2025-11-01T01:00:00Z to 2025-11-01T02:00:00Z is not one UTC day; export with bucket_width=1d and a start_time at 00:00 UTC"},
	}, me.Problems)

	_, err = Parse(Input{Format: FormatOpenAI, Data: []byte("{\"data\": [\n{\"start_time\": 1,,}]}")}, prices)
	require.ErrorAs(t, err, &me)
	require.Equal(t, 2, me.Problems[0].Line)

	_, err = Parse(Input{Format: "csv", Data: []byte("x")}, prices)
	require.ErrorContains(t, err, `format "csv" is not openrouter or openai`)
}
