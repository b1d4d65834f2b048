package routing

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// Tokenizer encodings, loaded once per process on first use and shared: this is
// the package's only mutable package-level state. Each is a pointer-free table
// (token_bpe.go) built from the tiktoken files embedded in the binary; building
// o200k takes a fraction of a second and ~4 MB, so a process loads only the
// encodings its traffic uses (see EstimatorConfig.LoadInBackground).
var (
	o200kEnc  = lazyEncoding{name: EncodingO200k, pattern: o200kPattern}
	cl100kEnc = lazyEncoding{name: EncodingCl100k, pattern: cl100kPattern}
)

type lazyEncoding struct {
	name, pattern string
	once          sync.Once
	// done is set once the load has finished (enc nil when it failed).
	done atomic.Bool
	enc  *bpeEncoding
}

// get loads the encoding on first call, waiting for a load under way.
func (l *lazyEncoding) get() *bpeEncoding {
	l.once.Do(func() {
		l.enc, _ = loadBPE(l.name, l.pattern)
		l.done.Store(true)
	})
	return l.enc
}

func o200k() *bpeEncoding  { return o200kEnc.get() }
func cl100k() *bpeEncoding { return cl100kEnc.get() }

func encodingOf(useO200k bool) *lazyEncoding {
	if useO200k {
		return &o200kEnc
	}
	return &cl100kEnc
}

// Encoding names, as in PromptCount.Encoding.
const (
	EncodingO200k  = "o200k_base"
	EncodingCl100k = "cl100k_base"
)

func baseModel(model string) string {
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		return model[i+1:]
	}
	return model
}

// usesO200k reports whether a model tokenizes with o200k_base (the gpt-4o
// family, gpt-4.1, o-series, gpt-5, and the simulated models); every other model
// is counted with cl100k_base, a close stand-in for non-OpenAI tokenizers.
func usesO200k(model string) bool {
	model = baseModel(model)
	for _, p := range []string{"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "sim-"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// nativeEncoding is the encoding a model's provider itself counts with, or ""
// when Tollgate has no copy of the model's tokenizer (Anthropic, Gemini,
// Llama...): only then is a cl100k count a stand-in rather than the truth.
func nativeEncoding(model string) string {
	if usesO200k(model) {
		return EncodingO200k
	}
	model = baseModel(model)
	for _, p := range []string{"gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada"} {
		if strings.HasPrefix(model, p) {
			return EncodingCl100k
		}
	}
	return ""
}

// Per-message overheads as OpenAI documents them for its chat format: every
// message costs 3 tokens of framing plus its role, a name costs 1 more, and
// every reply is primed with 3 tokens.
const (
	tokensPerMessage = 3
	tokensPerName    = 1
	tokensReplyPrime = 3
	// imageTokens is the routing estimate of one image (a high-detail
	// 1024×1024 image on gpt-4o); imageTokensBound is the most one image costs
	// on gpt-4o at high detail (85 + 8 tiles × 170).
	imageTokens      = 765
	imageTokensBound = 1445
	// toolCallBound bounds the framing of one assistant tool call (OpenAI
	// renders it as a message to "functions.<name>"), where the estimate uses
	// the per-message 3.
	toolCallBound = 12
	// toolsPromptBound covers the system prompt a provider adds when tools are
	// offered (Anthropic documents 313–346 tokens), for the bound on models
	// whose tokenizer Tollgate does not have.
	toolsPromptBound = 400
)

// DefaultExactLimitBytes is the default size of a last-turn text above which it
// is estimated, not counted, on the request path. Counting (a regexp2 pre-tokenizer)
// measured ~280 ns per byte on a loaded 2-core EPYC, so 4 KiB (~1,000 tokens)
// costs at most ~1 ms; a typical turn of a few hundred bytes ~0.1 ms. Texts
// above the limit are counted in the background and remembered, so the next
// turn of the conversation reads them exactly.
const DefaultExactLimitBytes = 4096

// EstimatorConfig tunes the Estimator.
type EstimatorConfig struct {
	// ExactLimitBytes is the size of a last-turn text above which it is
	// estimated instead of counted on the request path. 0 means
	// DefaultExactLimitBytes; negative means every text is always counted
	// exactly on the request path (tests, the simulated provider's truth).
	ExactLimitBytes int
	// LoadInBackground keeps an encoding's first load (0.2–0.7 s) off the
	// request path: a text the request path would count while its encoding is
	// not loaded yet is estimated instead (as a long text is) and handed to the
	// background counter, which loads the encoding. Serve sets it and warms
	// nothing, so a process holds only the encodings its traffic uses. Counts
	// that bill (streamed output without reported usage) still wait for the load.
	LoadInBackground bool
}

// Estimator counts prompt tokens before a request is forwarded: an accurate
// count for routing and a bound for the worst-case reservation (PromptCount).
// Settlement always bills the provider's reported usage. It is safe for
// concurrent use; a nil *Estimator estimates without the tokenizer.
//
// What it counts exactly on the request path: every text of the last turn (the
// messages after the last assistant message) up to ExactLimitBytes, and any text
// up to 256 bytes. Everything else (the repeated prefix of a conversation: its
// system prompt and history) is read from the count cache, where the background
// counter puts the exact count of every long text it has seen once; a text not
// counted yet is estimated from its shape (approxTokens) for routing and bounded
// from its length (upperBoundTokens) for the reservation.
type Estimator struct {
	limit int
	// lazy is EstimatorConfig.LoadInBackground.
	lazy bool
	// encs overrides the process's encodings (cl100k, o200k) in tests.
	encs *[2]*lazyEncoding
	// counts remembers exact counts (see token_cache.go).
	counts *tokenCache
	// bg counts long texts off the request path (see background).
	bg background
}

// NewEstimator returns an Estimator. Encodings load on first use; call Warm at
// start-up, or set LoadInBackground, to keep that 0.2–0.7 s off the first request.
func NewEstimator(cfg EstimatorConfig) *Estimator {
	l := cfg.ExactLimitBytes
	if l == 0 {
		l = DefaultExactLimitBytes
	}
	return &Estimator{limit: l, lazy: cfg.LoadInBackground, counts: newTokenCache()}
}

// Warm loads both encodings now. It is safe to call in a goroutine at start-up.
func (e *Estimator) Warm() {
	o200k()
	cl100k()
}

// CountText counts the tokens of text exactly with the model's encoding (o200k
// or the cl100k stand-in), remembering the count.
func (e *Estimator) CountText(model, text string) int {
	return e.countExact(usesO200k(model), text)
}

// loaded reports whether the request path may count with the encoding now:
// always, unless encodings load in the background and this one has not finished.
func (e *Estimator) loaded(useO200k bool) bool {
	return !e.lazy || e.encoding(useO200k).done.Load()
}

func (e *Estimator) encoding(useO200k bool) *lazyEncoding {
	if e != nil && e.encs != nil {
		if useO200k {
			return e.encs[1]
		}
		return e.encs[0]
	}
	return encodingOf(useO200k)
}

func (e *Estimator) countExact(useO200k bool, text string) int {
	if text == "" {
		return 0
	}
	var counts *tokenCache
	if e != nil {
		counts = e.counts
	}
	if n, ok := counts.get(useO200k, text); ok {
		return n
	}
	enc := e.encoding(useO200k).get()
	if enc == nil {
		return upperBoundTokens(text)
	}
	n := encodeCount(enc, text)
	counts.put(useO200k, text, n)
	return n
}

// encodeChunk is the size of the pieces encodeCount hands to the tokenizer:
// regexp2 slows down on long inputs (600 ns a byte at 16 KiB, 280 at 1 KiB).
const encodeChunk = 2048

// encodeCount counts text exactly, in chunks cut where no pre-tokenizer piece
// can straddle the cut: before a space that separates two ASCII letters (both
// encodings' pieces are letter runs with at most one leading non-letter, so a
// piece never holds a letter, a space and a letter).
func encodeCount(enc *bpeEncoding, text string) int {
	n := 0
	for len(text) > 2*encodeChunk {
		cut := -1
		for i := encodeChunk; i < len(text)-1; i++ {
			if text[i] == ' ' && isASCIILetter(text[i-1]) && isASCIILetter(text[i+1]) {
				cut = i
				break
			}
		}
		if cut < 0 {
			break
		}
		n += enc.count(text[:cut])
		text = text[cut:]
	}
	return n + enc.count(text)
}

// counterFor returns a text counter for streamed content of model: exact up to
// the limit, the upper bound beyond it (nil-safe).
func (e *Estimator) counterFor(model string) func(string) int {
	return func(s string) int {
		if e == nil || (e.limit >= 0 && len(s) > e.limit) {
			return upperBoundTokens(s)
		}
		return e.CountText(model, s)
	}
}

// PromptCount is the Estimator's reading of one prompt for one encoding.
type PromptCount struct {
	// Tokens is the best estimate of the prompt tokens the upstream will report:
	// exact for every text that was counted, the shape-based estimate for the
	// rest. Routing reads it (ChatRequest.PromptTokens).
	Tokens int
	// Bound is never below the true count on a model whose own tokenizer is
	// Encoding: counted texts add their exact count, the others their bound
	// from length and shape (textBound), tools JSON always that bound.
	Bound int
	// AnyBound bounds the count on any model: every text at the larger of its
	// length-and-shape bound and its count, plus room for a provider's tools prompt.
	AnyBound int
	// Encoding is the encoding the texts were counted with.
	Encoding string
	// Exact reports that every text was counted (Tokens is the true count for
	// a model of Encoding).
	Exact bool
	// Prefixes holds, for each message, a hash of the conversation up to and
	// including it and the estimated tokens up to there (system and history
	// first): what the prompt-cache tracking matches on.
	Prefixes []PromptPrefix
}

// PromptPrefix is one message boundary of a prompt.
type PromptPrefix struct {
	// Hash identifies the messages up to here (roles, names and texts) within
	// this process.
	Hash uint64
	// Tokens is the estimated prompt tokens up to and including this message.
	Tokens int
}

// BoundFor is the prompt size to reserve for on model m: Bound when m's own
// tokenizer is the one the prompt was counted with, AnyBound otherwise.
func (c PromptCount) BoundFor(m Model) int {
	if c.Encoding != "" && nativeEncoding(m.Upstream()) == c.Encoding {
		return max(c.Bound, c.Tokens)
	}
	return max(c.AnyBound, c.Bound, c.Tokens)
}

// pieceCount is one text's share of a PromptCount.
type pieceCount struct{ tokens, bound, anyBound int }

func (p *pieceCount) add(q pieceCount) {
	p.tokens += q.tokens
	p.bound += q.bound
	p.anyBound += q.anyBound
}

func fixed(n int) pieceCount { return pieceCount{n, n, n} }

// piece counts one text: from the cache, exactly when it is short or the
// caller asks (now), else by estimate (queuing it for the background counter).
func (e *Estimator) piece(useO200k bool, s string, now bool, exact *bool) pieceCount {
	if s == "" {
		return pieceCount{}
	}
	ub := textBound(s)
	var counts *tokenCache
	if e != nil {
		counts = e.counts
	}
	n, ok := counts.get(useO200k, s)
	if !ok && e != nil && (now || len(s) <= tokenCacheMaxText) && e.loaded(useO200k) {
		n, ok = e.countExact(useO200k, s), true
	}
	if ok {
		return pieceCount{n, n, max(n, ub)}
	}
	*exact = false
	if e != nil {
		e.bg.later(e, useO200k, s)
	}
	return pieceCount{min(approxTokens(s), ub), ub, ub}
}

// prefixSeed keys the prompt-prefix hashes of this process.
var prefixSeed = maphash.MakeSeed()

// Count reads req as it would be sent to model: message texts plus OpenAI's
// per-message framing, tool calls, images and the raw tools JSON.
func (e *Estimator) Count(model string, req *ChatRequest) PromptCount {
	return e.count(model, req, false)
}

// now reports whether a text of the last turn is counted on the request path.
func (e *Estimator) now(s string) bool {
	return e != nil && (e.limit < 0 || len(s) <= e.limit)
}

func (e *Estimator) count(model string, req *ChatRequest, all bool) PromptCount {
	useO200k := usesO200k(model)
	c := PromptCount{Encoding: EncodingCl100k, Exact: true, Prefixes: make([]PromptPrefix, 0, len(req.Messages))}
	if useO200k {
		c.Encoding = EncodingO200k
	}
	// The last turn: the messages after the last assistant message.
	lastTurn := 0
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "assistant" {
			lastTurn = i + 1
			break
		}
	}
	total := fixed(tokensReplyPrime)
	var h maphash.Hash
	h.SetSeed(prefixSeed)
	for i := range req.Messages {
		m := &req.Messages[i]
		now := func(s string) bool { return all || (i >= lastTurn && e.now(s)) }
		total.add(fixed(tokensPerMessage + 1))
		total.add(e.piece(useO200k, m.Text, now(m.Text), &c.Exact))
		if m.Name != "" {
			total.add(fixed(tokensPerName))
			total.add(e.piece(useO200k, m.Name, now(m.Name), &c.Exact))
		}
		for _, tc := range m.ToolCalls {
			total.add(pieceCount{tokensPerMessage, toolCallBound, toolCallBound})
			total.add(e.piece(useO200k, tc.Function.Name, now(tc.Function.Name), &c.Exact))
			total.add(e.piece(useO200k, tc.Function.Arguments, now(tc.Function.Arguments), &c.Exact))
		}
		if m.HasImage {
			total.add(pieceCount{imageTokens, imageTokensBound, imageTokensBound})
		}
		h.WriteString(m.Role)
		h.WriteByte(0)
		h.WriteString(m.Name)
		h.WriteByte(0)
		h.WriteString(m.Text)
		h.WriteByte(0)
		for _, tc := range m.ToolCalls {
			h.WriteString(tc.Function.Name)
			h.WriteByte(0)
			h.WriteString(tc.Function.Arguments)
			h.WriteByte(0)
		}
		c.Prefixes = append(c.Prefixes, PromptPrefix{Hash: h.Sum64(), Tokens: total.tokens})
	}
	if req.HasTools() {
		tools := string(req.Tools)
		p := e.piece(useO200k, tools, all || e.now(tools), &c.Exact)
		// OpenAI renders tools in its own format, not as this JSON: bound them
		// by length on every model.
		ub := textBound(tools)
		total.add(pieceCount{p.tokens, max(p.bound, ub), max(p.anyBound, ub) + toolsPromptBound})
	}
	c.Tokens, c.Bound, c.AnyBound = total.tokens, total.bound, total.anyBound
	return c
}

// PromptTokens is Count's routing estimate, and whether it is exact.
func (e *Estimator) PromptTokens(model string, req *ChatRequest) (tokens int, exact bool) {
	c := e.Count(model, req)
	return c.Tokens, c.Exact
}

// ExactPromptTokens counts every text of req exactly on model's encoding, now:
// the count an OpenAI upstream reports. The simulated provider answers with it.
func (e *Estimator) ExactPromptTokens(model string, req *ChatRequest) int {
	return e.count(model, req, true).Tokens
}

// Annotate counts req for model and records the count on it (Prompt, and
// PromptTokens for routing), so later stages (selection, reservation, stream
// usage fallback) share one count.
func (e *Estimator) Annotate(model string, req *ChatRequest) int {
	req.Prompt = e.Count(model, req)
	req.PromptTokens = req.Prompt.Tokens
	return req.PromptTokens
}

// EmbeddingTokens bounds the input tokens of an embeddings request (the
// reservation's size; the upstream reports the true count): inputs up to 256
// bytes exactly, longer ones by length (a batch of many inputs would cost
// milliseconds to count).
func (e *Estimator) EmbeddingTokens(model string, req *EmbeddingRequest) int {
	n := req.InputTokens
	useO200k := usesO200k(model)
	for _, s := range req.Inputs {
		switch {
		case e == nil || (e.limit >= 0 && len(s) > tokenCacheMaxText):
			n += upperBoundTokens(s)
		case !e.loaded(useO200k):
			n += upperBoundTokens(s)
			e.bg.later(e, useO200k, s)
		default:
			n += e.countExact(useO200k, s)
		}
	}
	return n
}

// textBound bounds the tokens of a text that was not counted: the larger of the
// length bound and the piece-shape bound (token_bound.go), which covers what
// the length bound misses (base64, hex, keys, punctuation and newline runs).
func textBound(s string) int {
	return max(upperBoundTokens(s), boundTokens(s))
}

// upperBoundTokens bounds the token count of s from its length alone: one token
// per 2.5 ASCII bytes (English and code average ~4 bytes a token) plus one per
// non-ASCII byte (CJK runs ~1 token a character, i.e. per 3 bytes). It can
// undercount only adversarial ASCII such as long runs of rare punctuation.
func upperBoundTokens(s string) int {
	ascii, other := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			ascii++
		} else {
			other++
		}
	}
	return (ascii*2+4)/5 + other
}
