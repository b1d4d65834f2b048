package routing

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountTextRemembersShortTexts(t *testing.T) {
	t.Parallel()
	e := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	long := strings.Repeat("quarterly drivers ", 20)
	for _, model := range []string{"gpt-4o-mini", "claude-sonnet-4"} {
		for _, text := range []string{"Say ok", "You are a helpful assistant.", "東京は日本の首都です。", long} {
			enc := EncodingCl100k
			if usesO200k(model) {
				enc = EncodingO200k
			}
			want := libCount(t, enc, text)
			require.Equal(t, want, e.CountText(model, text), "first count of %q", text)
			require.Equal(t, want, e.CountText(model, text), "remembered count of %q", text)
		}
	}
	_, ok := e.counts.get(true, "Say ok")
	require.True(t, ok)
	_, ok = e.counts.get(false, "Say ok")
	require.True(t, ok, "each encoding keeps its own count")
	_, ok = e.counts.get(true, long)
	require.True(t, ok, "texts over tokenCacheMaxText are kept by hash")
	_, ok = e.counts.get(true, long+" ")
	require.False(t, ok, "a different long text is not found")
	_, ok = e.counts.m[tokenCacheKey{true, long}]
	require.False(t, ok, "long texts are not kept by their text")
}

func TestTokenCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache()
	for i := range tokenCacheSize + 100 {
		c.put(true, "text "+strconv.Itoa(i), i)
	}
	require.LessOrEqual(t, len(c.m), tokenCacheSize)
	n, ok := c.get(true, "text "+strconv.Itoa(tokenCacheSize+99))
	require.True(t, ok, "the newest entry is kept")
	require.Equal(t, tokenCacheSize+99, n)
	var nilCache *tokenCache
	nilCache.put(true, "x", 1)
	_, ok = nilCache.get(true, "x")
	require.False(t, ok)
}
