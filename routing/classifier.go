package routing

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// The classifier is a logistic regression over hashed words (and their
// lexicon concepts) of the turn (the last user message and whatever arrived
// since the last assistant message: tool results, several user messages), the
// same again for the ask alone (the instruction part of the last user
// message, without pasted code or documents) in a namespace of its own, and
// structural features (length, code, digits, questions, tools, JSON, images,
// the concepts of the ask). Each namespace's words count 1/sqrt(n), so a long
// paste cannot outvote a one-line ask by its length. It never reads the
// conversation's size: a long chat with "lol thanks" at the end is as easy as
// the same two words alone. Inference reads at most clfScanLimit bytes of the
// turn and askScanLimit of the ask, each byte once, and allocates nothing.
//
// It has two heads: PStandard, the probability that the turn needs more than
// an economy model, and PPremium, the probability that it needs a premium one.
// The policy's thresholds turn them into a tier.

// Classifier dimensions. Changing them changes the model file format.
const (
	clfBuckets = 1 << 14
	clfBigrams = false
	// clfScanLimit bounds how much of the turn is tokenized: its first and last
	// clfScanLimit/2 bytes, where the ask usually sits around pasted material.
	// It keeps inference O(1) on huge prompts.
	clfScanLimit = 1 << 10
	// askScanLimit bounds the ask's second scan.
	askScanLimit = 512
	// askSalt is the namespace of the ask's words.
	askSalt = 0x5bd1e995
	// densityFloor is the least text a density feature is measured over.
	densityFloor = 160
)

// Structural feature slots, after the hashed buckets.
const (
	sfBias = iota
	sfLogBytes
	sfLogWords
	sfShort
	sfCode
	sfCodeChars
	sfDigits
	sfQuestions
	sfLines
	sfTable
	sfTools
	sfJSONSchema
	sfJSONObject
	sfImages
	sfToolResult
	sfMultiMessage
	sfAskWords
	sfAskLong
	sfAskNumbers
	sfTiny
	// sfAskConcept+k is 1 when the ask has a word of lexicon concept k+1: the
	// kind of ask, unscaled by how much material surrounds it.
	sfAskConcept
	sfCount = sfAskConcept + lexConceptCount
)

const ()

// clfMagic starts a model file.
var clfMagic = []byte("TGCLF1\n")

// Classifier is a trained routing model. It is immutable and safe for
// concurrent use.
type Classifier struct {
	// Name identifies the model in route reasons and the ledger ("builtin" or
	// the tenant's name for its own model).
	Name string
	// StandardThreshold and PremiumThreshold are the thresholds training chose
	// on held-back data; a policy's own thresholds override them.
	StandardThreshold, PremiumThreshold float64
	// w holds clfBuckets hashed weights then sfCount structural ones, the two
	// heads interleaved (w[2*i+head]) so one cache line serves both.
	w []float32
}

//go:embed classifier_default.bin
var defaultClassifierFile []byte

// DefaultClassifier parses the classifier embedded in the binary, trained by
// `tollgate route train` on the labelled set in testdata/routeset.
func DefaultClassifier() (*Classifier, error) {
	c, err := ParseClassifier(defaultClassifierFile)
	if err != nil {
		return nil, fmt.Errorf("routing: embedded classifier: %w", err)
	}
	c.Name = "builtin"
	return c, nil
}

// ParseClassifier reads a model file written by Classifier.MarshalBinary.
func ParseClassifier(b []byte) (*Classifier, error) {
	bad := func(why string) error {
		return errkind.New(errkind.Invalid, "not a Tollgate routing model (%s); train one with `tollgate route train`", why)
	}
	if !bytes.HasPrefix(b, clfMagic) {
		return nil, bad("bad header")
	}
	b = b[len(clfMagic):]
	if len(b) < 24 {
		return nil, bad("truncated")
	}
	buckets, nsf := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	c := &Classifier{StandardThreshold: float64(math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))),
		PremiumThreshold: float64(math.Float64frombits(binary.LittleEndian.Uint64(b[16:])))}
	b = b[24:]
	if buckets != clfBuckets || nsf != sfCount {
		return nil, bad(fmt.Sprintf("dimensions %d+%d, this version reads %d+%d", buckets, nsf, clfBuckets, sfCount))
	}
	n := int(buckets + nsf)
	if len(b) != 2*n*4 {
		return nil, bad("wrong size")
	}
	c.w = make([]float32, 2*n)
	for h := range 2 {
		for i := range n {
			c.w[2*i+h] = math.Float32frombits(binary.LittleEndian.Uint32(b[(h*n+i)*4:]))
		}
	}
	if !validThreshold(c.StandardThreshold) || !validThreshold(c.PremiumThreshold) {
		return nil, bad("thresholds out of range")
	}
	return c, nil
}

// MarshalBinary writes the model file ParseClassifier reads.
func (c *Classifier) MarshalBinary() ([]byte, error) {
	n := clfBuckets + sfCount
	out := make([]byte, 0, len(clfMagic)+24+2*n*4)
	out = append(out, clfMagic...)
	out = binary.LittleEndian.AppendUint32(out, clfBuckets)
	out = binary.LittleEndian.AppendUint32(out, sfCount)
	out = binary.LittleEndian.AppendUint64(out, math.Float64bits(c.StandardThreshold))
	out = binary.LittleEndian.AppendUint64(out, math.Float64bits(c.PremiumThreshold))
	if len(c.w) != 2*n {
		return nil, errors.New("routing: classifier has no weights")
	}
	for h := range 2 {
		for i := range n {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(c.w[2*i+h]))
		}
	}
	return out, nil
}

func validThreshold(t float64) bool { return t > 0 && t < 1 }

// turnVector is the sparse input of one turn: hashed n-gram buckets (with
// repeats) and the dense structural values.
type turnVector struct {
	// hashes[:n] are the buckets: at most a word and a concept per two bytes
	// scanned (a word needs a byte and a separator), in the turn and the ask.
	hashes [clfScanLimit + askScanLimit + 4]uint32
	n      int
	// askFrom is where the ask's buckets start in hashes.
	askFrom int
	// short is a turn too small to carry evidence (see shortTurn).
	short bool
	sf    [sfCount]float32
}

// scales returns the value of one bucket occurrence in the turn and in the
// ask: 1/sqrt(occurrences) of its namespace, so a long paste weighs as much
// as a one-line ask in total and cannot drown the ask by its length alone
// (length is a structural feature of its own).
func (v *turnVector) scales() (turn, ask float32) {
	return invSqrt(v.askFrom), invSqrt(v.n - v.askFrom)
}

func invSqrt(n int) float32 {
	if n <= 0 {
		return 0
	}
	return float32(1 / math.Sqrt(float64(n)))
}

func (v *turnVector) add(h uint32) {
	if v.n < len(v.hashes) {
		v.hashes[v.n] = h
		v.n++
	}
}

// Score returns PStandard and PPremium for a request.
func (c *Classifier) Score(req *ChatRequest) (pStandard, pPremium float64) {
	pStandard, pPremium, _ = c.scoreTurn(req)
	return pStandard, pPremium
}

// Short turns. A turn of a few words ("hello", "ok thanks", "option 3") gives
// the hashed weights too little to read: one word the training data saw
// mostly in hard asks can lift it over the threshold. Such a turn goes to
// economy unless it shows a sign of difficulty: a word of a demanding concept
// (code, fixing, analysis, reasoning, writing, expert or frontier topics), a
// code fence, an image, a tool result or a JSON schema to fill.
const (
	shortTurnWords = 3
	shortTurnBytes = 40
)

// scoreTurn is Score plus whether the turn is short without a sign of
// difficulty.
func (c *Classifier) scoreTurn(req *ChatRequest) (pStandard, pPremium float64, short bool) {
	v := turnVectors.Get().(*turnVector)
	v.n, v.askFrom, v.short, v.sf = 0, 0, false, [sfCount]float32{}
	v.fill(req)
	pStandard, pPremium = c.scoreVector(v)
	short = v.short
	turnVectors.Put(v)
	return pStandard, pPremium, short
}

// turnVectors recycles the classifier's 6 KB input. On the goroutine's stack
// it was the largest frame of the request path and took every request
// goroutine's stack past 16 KB to 32 KB, which a stream then holds while it
// is in flight.
var turnVectors = sync.Pool{New: func() any { return new(turnVector) }}

func (c *Classifier) scoreVector(v *turnVector) (float64, float64) {
	var t0, t1, a0, a1 float32
	w := c.w
	for _, i := range v.hashes[:v.askFrom] {
		t0 += w[2*i]
		t1 += w[2*i+1]
	}
	for _, i := range v.hashes[v.askFrom:v.n] {
		a0 += w[2*i]
		a1 += w[2*i+1]
	}
	ts, as := v.scales()
	z0, z1 := t0*ts+a0*as, t1*ts+a1*as
	for i, x := range v.sf {
		z0 += w[2*(clfBuckets+i)] * x
		z1 += w[2*(clfBuckets+i)+1] * x
	}
	return sigmoid(float64(z0)), sigmoid(float64(z1))
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// turnStart returns the index of the first message of the current turn:
// everything after the last assistant message (user messages, tool results).
// Without an assistant message it is the last user message.
func turnStart(msgs []Message) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "assistant" {
			if i+1 < len(msgs) {
				return i + 1
			}
			return i
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return i
		}
	}
	return max(len(msgs)-1, 0)
}

// fill reads the turn of req into v.
func (v *turnVector) fill(req *ChatRequest) {
	msgs := req.Messages
	start := turnStart(msgs)
	total, nmsg, toolResult, images := 0, 0, false, false
	for i := start; i < len(msgs); i++ {
		m := &msgs[i]
		if m.Role == "system" || m.Role == "developer" {
			continue
		}
		nmsg++
		total += len(m.Text)
		toolResult = toolResult || m.Role == "tool" || m.Role == "function"
		images = images || m.HasImage
	}
	budget := clfScanLimit
	var st textStats
	for i := start; i < len(msgs) && budget > 0; i++ {
		m := &msgs[i]
		if m.Role == "system" || m.Role == "developer" {
			continue
		}
		text := m.Text
		if len(text) > budget {
			// Head and tail of an over-long message: the ask sits around the paste.
			half := budget / 2
			st.scan(text[:half], v)
			st.scan(text[len(text)-half:], v)
			budget = 0
			break
		}
		st.scan(text, v)
		budget -= len(text)
	}
	scanned := max(st.bytes, 1)
	scale := float64(total) / float64(scanned)
	words := float64(st.words) * max(scale, 1)
	sf := &v.sf
	sf[sfBias] = 1
	sf[sfLogBytes] = float32(math.Log1p(float64(total)) / 10)
	sf[sfLogWords] = float32(math.Log1p(words) / 8)
	if st.words <= 6 {
		sf[sfShort] = 1
	}
	v.short = st.words <= shortTurnWords && total <= shortTurnBytes && nmsg == 1 && !toolResult && !images &&
		st.fences == 0 && st.concepts&hardConcepts == 0 && req.ResponseFormat != "json_schema"
	if st.fences >= 2 {
		sf[sfCode] = 1
	}
	// Densities over at least densityFloor bytes: one digit in "budget 3" is
	// not a table of numbers, nor one bracket in "hi :)" code.
	dens := float64(max(scanned, densityFloor))
	sf[sfCodeChars] = float32(min(float64(st.codeChars)/dens*10, 1))
	sf[sfDigits] = float32(min(float64(st.digits)/dens*5, 1))
	if st.words <= 3 && total <= 64 {
		sf[sfTiny] = 1
	}
	sf[sfQuestions] = float32(min(st.questions, 3)) / 3
	sf[sfLines] = float32(math.Log1p(float64(st.lines)) / 6)
	if st.lines > 3 && st.commas >= 2*st.lines {
		sf[sfTable] = 1
	}
	sf[sfTools] = b2f(req.HasTools())
	sf[sfJSONSchema] = b2f(req.ResponseFormat == "json_schema")
	sf[sfJSONObject] = b2f(req.ResponseFormat == "json_object")
	sf[sfImages] = b2f(images)
	sf[sfToolResult] = b2f(toolResult)
	sf[sfMultiMessage] = b2f(nmsg > 1)
	v.askFrom = v.n
	if last := lastUserText(msgs, start); last != "" {
		var ask string
		if len(last) <= clfScanLimit {
			ask = askOf(last)
		} else {
			// Long pastes: the ask is around them, in the head or the tail.
			ask = pickAsk(askOf(last[:clfScanLimit/2]), askOf(last[len(last)-clfScanLimit/2:]))
		}
		// The ask's words again, in a namespace of their own: "is this
		// Python?" weighs differently from "Python" in pasted material.
		as := textStats{salt: askSalt}
		as.scan(ask[:min(len(ask), askScanLimit)], v)
		sf[sfAskWords] = float32(math.Log1p(float64(as.words)) / 4)
		sf[sfAskLong] = b2f(as.words >= 20)
		sf[sfAskNumbers] = float32(min(as.nums, 6)) / 6
		for k := range lexConceptCount {
			if as.concepts&(1<<(k+1)) != 0 {
				sf[sfAskConcept+k] = 1
			}
		}
	}
}

// lastUserText is the text of the turn's last user message.
func lastUserText(msgs []Message, start int) string {
	for i := len(msgs) - 1; i >= start; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Text
		}
	}
	return ""
}

// askOf returns the instruction part of a message: without fenced code, and
// when material is pasted (several paragraphs), the shorter of the first and
// last paragraph, where people write the ask.
func askOf(text string) string {
	if i := strings.Index(text, "```"); i >= 0 {
		if j := lastIndex(text, "```"); j > i {
			head, tail := strings.TrimSpace(text[:i]), strings.TrimSpace(text[j+3:])
			if len(head) >= len(tail) {
				return head
			}
			return tail
		}
	}
	first := strings.Index(text, "\n\n")
	last := lastIndex(text, "\n\n")
	if first < 0 {
		return text
	}
	a, b := strings.TrimSpace(text[:first]), strings.TrimSpace(text[last+2:])
	return pickAsk(a, b)
}

// pickAsk returns the candidate that reads as the instruction rather than
// pasted material: fewer lines (a title with a date line, a block of rows
// are material), then the shorter.
func pickAsk(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	la, lb := strings.Count(a, "\n"), strings.Count(b, "\n")
	if la != lb {
		if la < lb {
			return a
		}
		return b
	}
	if len(a) <= len(b) {
		return a
	}
	return b
}

// lastIndex is strings.LastIndex by repeated forward search: the forward
// search is vectorised, the backward one is not, and the needles are rare.
func lastIndex(s, sep string) int {
	last := -1
	for off := 0; ; {
		i := strings.Index(s[off:], sep)
		if i < 0 {
			return last
		}
		last = off + i
		off = last + 1
	}
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// textStats tokenizes text into words (runs of letters, digits and non-ASCII
// bytes, ASCII lowercased), hashing unigrams and bigrams as it goes.
type textStats struct {
	bytes, words, nums, digits, codeChars, questions, lines, commas, fences int
	// concepts has bit id set for every lexicon concept id seen.
	concepts uint32
	// salt moves every bucket into another namespace (askSalt: the ask's
	// words); 0 is the turn's own.
	salt    uint32
	prev    uint32
	hasPrev bool
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
	// numHash stands for every all-digit word, so "12" and "250" read alike.
	numHash = 0x9e3779b1
)

// wordTab maps a byte of a word to its lowercase form (digits and non-ASCII
// bytes to themselves) and every other byte to 0: one table lookup per byte.
var wordTab = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80:
			t[c] = byte(c)
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

func (st *textStats) scan(s string, out *turnVector) {
	st.bytes += len(s)
	for i := 0; i < len(s); {
		c := s[i]
		if wordTab[c] == 0 {
			switch c {
			case ' ':
			case '{', '}', ';', '(', ')', '=', '<', '>', '[', ']':
				st.codeChars++
			case '?':
				st.questions++
			case '\n':
				st.lines++
			case ',':
				st.commas++
			case '`':
				if i+2 < len(s) && s[i+1] == '`' && s[i+2] == '`' {
					st.fences++
					i += 2
				}
			case '.', '!':
				// A sentence end breaks a bigram chain.
				st.hasPrev = false
			}
			i++
			continue
		}
		// One pass over the word: h is the FNV hash of the lowercased word and
		// h1..h3 the hash before its last one, two and three bytes, so the
		// stem's hash (without "s", "ed"/"es"/"ly" or "ing") needs no second
		// pass.
		start, digits := i, 0
		h, h1, h2, h3 := uint32(fnvOffset), uint32(0), uint32(0), uint32(0)
		for ; i < len(s); i++ {
			l := wordTab[s[i]]
			if l == 0 {
				break
			}
			if l <= '9' {
				digits++
			}
			h3, h2, h1 = h2, h1, h
			h = (h ^ uint32(l)) * fnvPrime
		}
		n, stem := i-start, h
		if n > 3 {
			c1, c2, c3 := wordTab[s[i-1]], wordTab[s[i-2]], wordTab[s[i-3]]
			switch {
			case n > 5 && c3 == 'i' && c2 == 'n' && c1 == 'g':
				stem = h3
			case n > 4 && (c2 == 'e' && (c1 == 'd' || c1 == 's') || c2 == 'l' && c1 == 'y'):
				stem = h2
			case c1 == 's':
				stem = h1
			}
		}
		st.digits += digits
		if digits > 0 {
			st.nums++
		}
		st.emit(n, h, stem, digits == n, out)
	}
	st.hasPrev = false
}

// emit adds one word of n bytes: its concept (if the lexicon knows its stem),
// its own hash (all-digit words share one), and the bigram with the previous
// word.
func (st *textStats) emit(n int, h, stem uint32, allDigits bool, out *turnVector) {
	if allDigits {
		h = numHash
	} else if n >= 2 && n <= 16 {
		if id := lex.lookup(stem); id != 0 {
			st.concepts |= 1 << id
			out.add((conceptBucket(id) ^ st.salt) & (clfBuckets - 1))
		}
	}
	out.add((h ^ st.salt) & (clfBuckets - 1))
	if clfBigrams && st.hasPrev {
		b := (st.prev*0x85ebca6b ^ h ^ st.salt) * 0xc2b2ae35
		out.add((b ^ b>>15) & (clfBuckets - 1))
	}
	st.prev, st.hasPrev = h, true
	st.words++
}

// containsWord reports whether phrase (lowercase) occurs in text (lowercase) as
// whole words: "prove" matches "prove it" but not "improve" or "approved".
func containsWord(text, phrase string) bool {
	if phrase == "" {
		return false
	}
	for off := 0; ; {
		i := strings.Index(text[off:], phrase)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(phrase)
		if (i == 0 || !wordByte(text[i-1])) && (end == len(text) || !wordByte(text[end])) {
			return true
		}
		off = i + 1
	}
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}
