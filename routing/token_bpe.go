package routing

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Pre-tokenizer patterns of the two encodings, as tiktoken defines them.
const (
	o200kPattern = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?` +
		`|\p{N}{1,3}` +
		`| ?[^\s\p{L}\p{N}]+[\r\n/]*` +
		`|\s*[\r\n]+` +
		`|\s+(?!\S)` +
		`|\s+`
	cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// bpeEncoding counts tokens like tiktoken's EncodeOrdinary, from a rank table
// the garbage collector does not scan: the token bytes in one arena, and an
// open-addressing hash index of uint32s. The library's own tables (a
// map[string]int per encoding, its reverse, and a sorted [][]byte) held ~35 MB
// of pointers that every GC cycle walked; this holds ~6 MB of plain integers
// and bytes for both encodings.
type bpeEncoding struct {
	re *regexp2.Regexp
	// arena holds every token's bytes; token i is arena[off[i]:off[i+1]].
	arena []byte
	off   []uint32
	// rank is each token's rank, nil when token i has rank i (both files).
	rank []uint32
	// slots is the hash index: token index + 1, 0 for an empty slot;
	// len(slots) is a power of two at least twice the token count.
	slots []uint32
	mask  uint64
}

// bpeSeed keys the rank index's hash (per process; the index is never stored).
var bpeSeed = maphash.MakeSeed()

// The rank files of the two encodings (bpe/README.md), embedded as strings so
// that building a table reads them in place: an embed.FS read copies the file to
// the heap first (3.6 MB of garbage for o200k). Nothing reads them, and so none
// of their pages is brought in, until an encoding is first used.
var (
	//go:embed bpe/o200k_base.tiktoken
	o200kRanks string
	//go:embed bpe/cl100k_base.tiktoken
	cl100kRanks string
)

func bpeRanks(name string) (string, error) {
	switch name {
	case EncodingO200k:
		return o200kRanks, nil
	case EncodingCl100k:
		return cl100kRanks, nil
	}
	return "", fmt.Errorf("tokenizer %s: unknown encoding", name)
}

// loadBPE builds the table of encoding name (o200k_base or cl100k_base) from
// the tiktoken files embedded in the binary.
func loadBPE(name, pattern string) (*bpeEncoding, error) {
	raw, err := bpeRanks(name)
	if err != nil {
		return nil, err
	}
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s pattern: %w", name, err)
	}
	// A first pass sizes the arena exactly, so the table holds no spare
	// capacity and is built without a copy.
	lines, arenaLen := 0, 0
	for rest := raw; len(rest) > 0; {
		line, next, _ := strings.Cut(rest, "\n")
		rest = next
		if sp := strings.IndexByte(line, ' '); sp > 0 {
			tok := line[:sp]
			pad := len(tok) - len(strings.TrimRight(tok, "="))
			arenaLen += len(tok)/4*3 - pad
			lines++
		}
	}
	e := &bpeEncoding{
		re:    re,
		arena: make([]byte, 0, arenaLen),
		off:   make([]uint32, 1, lines+1),
		rank:  make([]uint32, 0, lines),
	}
	var b64 []byte
	for len(raw) > 0 {
		line, next, _ := strings.Cut(raw, "\n")
		raw = next
		if len(line) == 0 {
			continue
		}
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tokenizer %s: malformed line %q", name, line)
		}
		b64 = append(b64[:0], line[:sp]...)
		e.arena, err = base64.StdEncoding.AppendDecode(e.arena, b64)
		if err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", name, err)
		}
		r, err := strconv.ParseUint(line[sp+1:], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", name, err)
		}
		e.off = append(e.off, uint32(len(e.arena)))
		e.rank = append(e.rank, uint32(r))
	}
	n := len(e.rank)
	if n == 0 || len(e.arena) > math.MaxUint32 {
		return nil, errors.New("tokenizer " + name + ": empty or oversized table")
	}
	identity := true
	for i, r := range e.rank {
		identity = identity && r == uint32(i)
	}
	if identity {
		e.rank = nil
	}
	size := 1
	for size < 2*n {
		size <<= 1
	}
	e.slots, e.mask = make([]uint32, size), uint64(size-1)
	for i := range n {
		tok := e.token(i)
		h := maphash.Bytes(bpeSeed, tok) & e.mask
		for e.slots[h] != 0 {
			if bytes.Equal(e.token(int(e.slots[h]-1)), tok) {
				return nil, fmt.Errorf("tokenizer %s: duplicate token %q", name, tok)
			}
			h = (h + 1) & e.mask
		}
		e.slots[h] = uint32(i + 1)
	}
	return e, nil
}

// size is the number of tokens.
func (e *bpeEncoding) size() int { return len(e.off) - 1 }

func (e *bpeEncoding) token(i int) []byte { return e.arena[e.off[i]:e.off[i+1]] }

// lookup returns the rank of b, or -1 when b is not a token.
func (e *bpeEncoding) lookup(b []byte) int {
	h := maphash.Bytes(bpeSeed, b) & e.mask
	for {
		s := e.slots[h]
		if s == 0 {
			return -1
		}
		if bytes.Equal(e.token(int(s-1)), b) {
			if e.rank == nil {
				return int(s - 1)
			}
			return int(e.rank[s-1])
		}
		h = (h + 1) & e.mask
	}
}

// count is len(tiktoken.EncodeOrdinary(text)) for this encoding: the same
// pre-tokenizer over the text's runes (invalid UTF-8 reads as U+FFFD, as there),
// one token for a piece that is a token, else the count of the byte-pair merge.
func (e *bpeEncoding) count(text string) int {
	runes := []rune(text)
	var (
		piece []byte
		parts [][2]int
		n     int
	)
	m, _ := e.re.FindRunesMatch(runes)
	for m != nil {
		piece = piece[:0]
		for _, r := range runes[m.Index : m.Index+m.Length] {
			piece = utf8.AppendRune(piece, r)
		}
		if e.lookup(piece) >= 0 {
			n++
		} else if len(piece) == 1 {
			n++
		} else {
			n += e.mergeCount(piece, &parts)
		}
		m, _ = e.re.FindNextMatch(m)
	}
	return n
}

// mergeCount is the number of tokens tiktoken's bytePairMerge splits piece
// into: the same merges in the same order (lowest rank first, leftmost on a
// tie), on a reused parts buffer.
func (e *bpeEncoding) mergeCount(piece []byte, buf *[][2]int) int {
	parts := (*buf)[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, [2]int{i, math.MaxInt})
	}
	defer func() { *buf = parts[:0] }()
	getRank := func(start, skip int) int {
		if start+skip+2 < len(parts) {
			return e.lookup(piece[parts[start][0]:parts[start+skip+2][0]])
		}
		return -1
	}
	for i := 0; i < len(parts)-2; i++ {
		if r := getRank(i, 0); r >= 0 {
			parts[i][1] = r
		}
	}
	for len(parts) > 1 {
		minRank, minIdx := math.MaxInt, -1
		for i := 0; i < len(parts)-1; i++ {
			if parts[i][1] < minRank {
				minRank, minIdx = parts[i][1], i
			}
		}
		if minRank == math.MaxInt {
			break
		}
		i := minIdx
		if r := getRank(i, 1); r >= 0 {
			parts[i][1] = r
		} else {
			parts[i][1] = math.MaxInt
		}
		if i > 0 {
			if r := getRank(i-1, 1); r >= 0 {
				parts[i-1][1] = r
			} else {
				parts[i-1][1] = math.MaxInt
			}
		}
		parts = append(parts[:i+1], parts[i+2:]...)
	}
	return len(parts) - 1
}
