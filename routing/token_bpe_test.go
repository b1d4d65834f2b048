package routing

import (
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/stretchr/testify/require"
)

var (
	libOnce sync.Once
	libEncs map[string]*tiktoken.Tiktoken
)

// libCount is the reference: len(EncodeOrdinary) of the tiktoken library.
func libCount(t testing.TB, encoding, text string) int {
	t.Helper()
	libOnce.Do(func() {
		tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
		libEncs = map[string]*tiktoken.Tiktoken{}
		for _, name := range []string{EncodingO200k, EncodingCl100k} {
			enc, err := tiktoken.GetEncoding(name)
			if err != nil {
				panic(err)
			}
			libEncs[name] = enc
		}
	})
	return len(libEncs[encoding].EncodeOrdinary(text))
}

// variedTexts: natural prose and code, the awkward shapes of the bound tests,
// scripts, emoji, contractions, digit runs, whitespace and invalid UTF-8, and
// seeded random mixes of all of them.
func variedTexts(t *testing.T) []string {
	c := loadChatCorpus(t)
	texts := []string{
		"", "a", " ", "\n", "\r\n\r\n", "   \n  \t x", "Hello, world!", "I'm sure they'll've done it; it's John's.",
		"DON'T SHOUT'S", "1234567890 3.14159 1e10 0xDEADBEEF", "東京は日本の首都です。", "Ελληνικά και русский текст",
		"emoji 👩‍👩‍👧‍👦 🇫🇷 ✓✓✓", "\xff\xfe invalid \xc3 utf8 \xe2\x82", "مرحبا بالعالم", "हिन्दी पाठ",
		"camelCaseIdentifierHTTPServer_snake_case", "https://example.com/a/b?c=d&e=f#g", "    indented\n\t\ttabs\n",
		strings.Repeat("=", 300), strings.Repeat("ab", 500), strings.Repeat("\n", 40), "aGVsbG8gd29ybGQ=" + strings.Repeat("QUJD", 100),
	}
	for _, s := range awkwardTexts() {
		texts = append(texts, s)
	}
	texts = append(texts, c.prose...)
	texts = append(texts, c.code...)
	alphabet := []string{"a", "Z", "é", "ß", "ñ", "日", "本", "😀", " ", "  ", "\n", "\t", "'", "'s", "'LL", "0", "7", "42",
		".", ",", "!", "/", "\\", "{", "}", "_", "-", "—", "\u0301", "\u200b", "\xff", "the", " of", "ing", "HTTP"}
	r := rand.New(rand.NewPCG(15, 1))
	for range 300 {
		var b strings.Builder
		for range 1 + r.IntN(80) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestBPECountsMatchTiktoken: the pointer-free tables count exactly what the
// tiktoken library counts, on both encodings, text by text.
func TestBPECountsMatchTiktoken(t *testing.T) {
	t.Parallel()
	texts := variedTexts(t)
	for name, enc := range map[string]*bpeEncoding{EncodingO200k: o200k(), EncodingCl100k: cl100k()} {
		require.NotNil(t, enc, name)
		total := 0
		for _, s := range texts {
			want := libCount(t, name, s)
			require.Equal(t, want, enc.count(s), "%s: %q", name, s)
			total += want
		}
		require.Greater(t, total, 10000, "%s: the texts exercise the tables", name)
	}
}

// TestBPETablesAreNotScanned: both tables add a few MB of heap and almost
// nothing the garbage collector scans (the library's maps added ~35 MB live,
// ~28 MB scanned).
func TestBPETablesAreNotScanned(t *testing.T) {
	read := func() (live, scan uint64) {
		runtime.GC()
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/heap:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), s[1].Value.Uint64()
	}
	live0, scan0 := read()
	o, err := loadBPE(EncodingO200k, o200kPattern)
	require.NoError(t, err)
	cl, err := loadBPE(EncodingCl100k, cl100kPattern)
	require.NoError(t, err)
	live1, scan1 := read()
	runtime.KeepAlive(o)
	runtime.KeepAlive(cl)
	live, scan := int64(live1)-int64(live0), int64(scan1)-int64(scan0)
	t.Logf("both tables: live heap +%.1f MB, GC-scanned +%.1f KB", float64(live)/1e6, float64(scan)/1e3)
	require.Less(t, live, int64(12<<20), "live heap of both tables")
	require.Less(t, scan, int64(1<<20), "GC-scanned heap of both tables")
	require.Equal(t, 199998, o.size())
	require.Equal(t, 100256, cl.size())
}
