package routing

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// awkwardTexts are the texts a length bound undercounts: high-entropy strings,
// punctuation, newlines, symbols.
func awkwardTexts() map[string]string {
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 3000)
	for i := range raw {
		raw[i] = byte(r.IntN(256))
	}
	gen := func(alphabet string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	var uuids, keys, logs strings.Builder
	for range 100 {
		fmt.Fprintf(&uuids, "%08x-%04x-%04x-%04x-%012x\n", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		fmt.Fprintf(&keys, "sk-%s ", gen("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 40))
		fmt.Fprintf(&logs, "2026-12-07T16:%02d:%02d.%06dZ ERROR pid=%d addr=0x%x path=/v1/chat/completions status=%d\n",
			r.IntN(60), r.IntN(60), r.IntN(1e6), r.IntN(1e5), r.Uint64(), 400+r.IntN(200))
	}
	return map[string]string{
		"base64":     base64.StdEncoding.EncodeToString(raw),
		"hex":        hex.EncodeToString(raw),
		"uuids":      uuids.String(),
		"api keys":   keys.String(),
		"logs":       logs.String(),
		"punct":      gen("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", 4000),
		"printable":  gen(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", 4000),
		"lowercase":  gen("abcdefghijklmnopqrstuvwxyz", 4000),
		"letters":    gen("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 4000),
		"digits":     gen("0123456789", 4000),
		"newlines":   strings.Repeat("a\n", 2000),
		"singles":    strings.Repeat(" x", 2000),
		"spaces":     strings.Repeat(" ", 3000),
		"emoji":      strings.Repeat("😀🎉👍🏽🚀", 200),
		"cjk":        strings.Repeat("東京は日本の首都です。", 100),
		"accented":   strings.Repeat("Ça été déjà très réussi, naïve façade. ", 100),
		"minified":   strings.Repeat(`{"a":[1,2,{"b":null}],"c":"d\u00e9"};`, 100),
		"camelCase":  strings.Repeat("getHTTPServerURLForXMLParserID parseJSONToYAMLConfigV2 ", 100),
		"consonants": strings.Repeat("strengths rhythms nth crwth tsktsk ", 100),
	}
}

// TestBoundTokensHolds: the bound the reservation uses for uncounted text is
// never below the true count on either encoding, on natural text or awkward.
func TestBoundTokensHolds(t *testing.T) {
	t.Parallel()
	c := loadChatCorpus(t)
	texts := awkwardTexts()
	texts["prose"] = strings.Join(c.prose, "\n\n")
	texts["code"] = strings.Join(c.code, "\n")
	var under []string
	for name, s := range texts {
		o, cl := o200k().count(s), cl100k().count(s)
		b := boundTokens(s)
		if b < max(o, cl) {
			under = append(under, name)
		}
		t.Logf("%-10s bytes %6d  o200k %6d  cl100k %6d  bound %6d (%.2fx)  length bound %6d", name, len(s), o, cl, b,
			float64(b)/float64(max(o, cl)), upperBoundTokens(s))
	}
	require.Empty(t, under, "the bound undercounts these")
}

// TestReservationBoundCoversAwkwardHistory: a history the request path did not
// count (here a pasted base64 blob and a log dump) is bounded, not estimated,
// for the reservation, on the model's own encoding and on any model.
func TestReservationBoundCoversAwkwardHistory(t *testing.T) {
	t.Parallel()
	aw := awkwardTexts()
	for _, history := range []string{aw["base64"], aw["logs"], aw["api keys"]} {
		req := &ChatRequest{Messages: []Message{{Role: "system", Text: history}, {Role: "assistant", Text: history}, {Role: "user", Text: "and?"}}}
		c := NewEstimator(EstimatorConfig{}).Count("gpt-4o", req)
		require.False(t, c.Exact)
		truth := NewEstimator(EstimatorConfig{ExactLimitBytes: -1}).ExactPromptTokens("gpt-4o", req)
		require.GreaterOrEqual(t, c.Bound, truth)
		require.GreaterOrEqual(t, c.AnyBound, truth)
	}
}
