package routing

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The ledger's route_features must stay what json.Marshal wrote: replay and
// the explorer read it back, and old rows were written by json.Marshal.
func TestFeaturesAppendJSONMatchesMarshal(t *testing.T) {
	floats := []float64{0, 1, 0.5, 0.123456789, 1e-7, -1e-7, 3.4e-9, 1e21, 2.5e22, 1e20, 0.000001, 123456.789, -0.25, math.SmallestNonzeroFloat64, math.MaxFloat64}
	strs := []string{"", "builtin", "a\"b", "<tag>&", "tab\there", "é-ü", "\xff\xfe", "line\u2028sep", "0123abcdef"}
	cases := []Features{{}, {PromptTokens: 12, PStandard: 0.31, PPremium: 0.02, Classifier: "builtin", ShortTurn: true,
		ModelStandard: 0.5, ModelPremium: 0.8, Conversation: "abc", ConversationNext: "def"},
		{PromptTokens: -1, CodeBlocks: 3, Tools: true, Images: true, WantsJSON: true, Turns: 7, KeywordRules: []string{"code", "legal <x>"}},
		{KeywordRules: []string{}}}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		f := Features{PromptTokens: r.IntN(1 << 20), CodeBlocks: r.IntN(3), Tools: r.IntN(2) == 0, Images: r.IntN(2) == 0,
			WantsJSON: r.IntN(2) == 0, Turns: r.IntN(3), PStandard: floats[r.IntN(len(floats))], PPremium: r.Float64(),
			Classifier: strs[r.IntN(len(strs))], ShortTurn: r.IntN(2) == 0, ModelStandard: floats[r.IntN(len(floats))],
			ModelPremium: r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)), Conversation: strs[r.IntN(len(strs))],
			ConversationNext: strs[r.IntN(len(strs))]}
		for range r.IntN(3) {
			f.KeywordRules = append(f.KeywordRules, strs[r.IntN(len(strs))])
		}
		cases = append(cases, f)
	}
	for _, f := range cases {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		got, ok := f.AppendJSON(nil)
		require.True(t, ok)
		require.Equal(t, string(want), string(got))
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		f := Features{PPremium: bad}
		_, err := json.Marshal(f)
		require.Error(t, err)
		_, ok := f.AppendJSON(nil)
		require.False(t, ok, "json.Marshal fails on %v, so AppendJSON must", bad)
	}
}
