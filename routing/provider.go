package routing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Provider is the one seam between routing and an LLM upstream. Every
// implementation runs the conformance suite in routing/providertest.
//
// The upstream model is the provider's own id for the model (Model.UpstreamID);
// the request's own model field is replaced with it and nothing else is changed
// for OpenAI-compatible upstreams. Errors from the upstream are *UpstreamError.
type Provider interface {
	// Name is the provider's registry name ("openai", "anthropic", "sim").
	Name() string
	// Chat sends a non-streaming chat completion and returns the OpenAI-shaped body.
	Chat(ctx context.Context, req *ChatRequest, upstreamModel string) (*ChatResponse, error)
	// ChatStream opens a streaming chat completion. It returns once the upstream
	// has accepted the request (status 200); the caller must Close the stream.
	// Cancelling ctx cancels the upstream request.
	ChatStream(ctx context.Context, req *ChatRequest, upstreamModel string) (*Stream, error)
	// Embed creates embeddings; providers without embeddings return ErrUnsupported.
	Embed(ctx context.Context, req *EmbeddingRequest, upstreamModel string) (*EmbeddingResponse, error)
}

// ErrUnsupported is returned for an operation a provider does not offer
// (embeddings on Anthropic). It is an Invalid error: the client chose the model.
var ErrUnsupported = errkind.New(errkind.Invalid, "operation not supported by this model's provider")

// Usage is what an upstream reports (or Tollgate estimates) a request consumed.
// Settlement bills from it.
type Usage struct {
	// PromptTokens counts all input tokens, cached ones included (OpenAI's convention).
	PromptTokens int `json:"prompt_tokens"`
	// CachedTokens is the part of PromptTokens served from the provider's prompt
	// cache (OpenAI's cached_tokens, Anthropic's cache_read_input_tokens).
	CachedTokens int `json:"cached_tokens"`
	// CacheWriteTokens is the part of PromptTokens written to the prompt cache
	// (Anthropic's cache_creation_input_tokens, billed above the input price;
	// OpenAI writes its cache for free and reports none).
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	// CompletionTokens counts output tokens, reasoning tokens included.
	CompletionTokens int `json:"completion_tokens"`
	// Estimated is true when the upstream reported nothing and Tollgate counted
	// the prompt and the streamed content itself (client disconnect, broken stream).
	Estimated bool `json:"estimated"`
}

// TotalTokens is prompt plus completion tokens.
func (u Usage) TotalTokens() int { return u.PromptTokens + u.CompletionTokens }

// usageWire is OpenAI's usage object. prompt_tokens_details.cache_write_tokens
// is not OpenAI's (its cache writes are free): it carries Anthropic's cache
// writes through the OpenAI shape, under the name OpenRouter reports them with.
type usageWire struct {
	PromptTokens        int                `json:"prompt_tokens"`
	CompletionTokens    int                `json:"completion_tokens"`
	TotalTokens         int                `json:"total_tokens"`
	PromptTokensDetails *promptDetailsWire `json:"prompt_tokens_details,omitempty"`
}

// promptDetailsWire is prompt_tokens_details; cache_write_tokens is
// OpenRouter's name for the tokens written to a prompt cache.
type promptDetailsWire struct {
	CachedTokens     int `json:"cached_tokens"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
}

func (w usageWire) usage() Usage {
	u := Usage{PromptTokens: w.PromptTokens, CompletionTokens: w.CompletionTokens}
	if w.PromptTokensDetails != nil {
		u.CachedTokens = w.PromptTokensDetails.CachedTokens
		u.CacheWriteTokens = w.PromptTokensDetails.CacheWriteTokens
	}
	return u
}

func wireUsage(u Usage) usageWire {
	w := usageWire{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens()}
	if u.CachedTokens > 0 || u.CacheWriteTokens > 0 {
		w.PromptTokensDetails = &promptDetailsWire{CachedTokens: u.CachedTokens, CacheWriteTokens: u.CacheWriteTokens}
	}
	return w
}

// ChatResponse is a completed non-streaming chat completion.
type ChatResponse struct {
	// Body is an OpenAI chat.completion object, to send to the client as is. For
	// OpenAI-compatible upstreams it is the upstream's body, unchanged.
	Body json.RawMessage
	// Usage is parsed from Body (or translated from the provider's own shape).
	Usage Usage
	// UpstreamModel is the model id the upstream says answered.
	UpstreamModel string
}

// EmbeddingResponse is a completed embeddings call.
type EmbeddingResponse struct {
	// Body is an OpenAI embeddings list object, unchanged from the upstream.
	Body json.RawMessage
	// Usage has PromptTokens set; CompletionTokens is always 0.
	Usage Usage
}

// parseUsageFromBody reads "model" and "usage" from an OpenAI-shaped body.
// The body goes to the client unchanged, so only those two members are decoded:
// one validating pass (json.Valid) and the scanner replace encoding/json's
// validate-then-decode of the whole body, choices included. Anything unusual
// (members named with escapes or in another case, wrong types, invalid JSON)
// takes the encoding/json path, which also words the error.
func parseUsageFromBody(body []byte) (Usage, string, error) {
	if json.Valid(body) {
		var buf [2]topLevelSpan
		if spans, _, err := scanTopLevel(buf[:], body, "model", "usage"); err == nil && spans[0].start >= 0 && spans[1].start >= 0 {
			model, ok := decodeString(body[spans[0].start:spans[0].end])
			if u, uok := decodeUsageFast(body[spans[1].start:spans[1].end]); ok && uok {
				return u.usage(), model, nil
			}
			var u *usageWire
			if ok && json.Unmarshal(body[spans[1].start:spans[1].end], &u) == nil && u != nil {
				return u.usage(), model, nil
			}
		}
	}
	return parseUsageFromBodySlow(body)
}

func parseUsageFromBodySlow(body []byte) (Usage, string, error) {
	var w struct {
		Model string     `json:"model"`
		Usage *usageWire `json:"usage"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Usage{}, "", err
	}
	if w.Usage == nil {
		return Usage{}, w.Model, errors.New("upstream response has no usage")
	}
	return w.Usage.usage(), w.Model, nil
}

// Member names of usage and prompt_tokens_details, as usageWire reads them.
var (
	usageKeys   = [...]string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"}
	detailsKeys = [...]string{"cached_tokens", "cache_write_tokens"}
)

// decodeUsageFast reads a usage object (from a body json.Valid accepted) the
// way json.Unmarshal into *usageWire does, without its reflection and
// allocations; ok is false for anything it would read differently or refuse
// (not an object, escaped or case-variant names, values other than integers
// and null), which the caller then hands to encoding/json.
func decodeUsageFast(b []byte) (usageWire, bool) {
	var w usageWire
	var details promptDetailsWire
	hasDetails := false
	ints := [...]*int{&w.PromptTokens, &w.CompletionTokens, &w.TotalTokens}
	ok := forEachMember(b, usageKeys[:], func(k int, v []byte) bool {
		if k < len(ints) {
			return decodeIntInto(ints[k], v)
		}
		if bytes.Equal(v, []byte("null")) {
			hasDetails = false
			return true
		}
		if !hasDetails {
			// A second object decodes into the first, as encoding/json does.
			details, hasDetails = promptDetailsWire{}, true
		}
		dst := [...]*int{&details.CachedTokens, &details.CacheWriteTokens}
		return forEachMember(v, detailsKeys[:], func(k int, v []byte) bool { return decodeIntInto(dst[k], v) })
	})
	if !ok {
		return usageWire{}, false
	}
	if hasDetails {
		d := details
		w.PromptTokensDetails = &d
	}
	return w, true
}

// decodeIntInto decodes an integer member into dst; null leaves dst as it is,
// as encoding/json does.
func decodeIntInto(dst *int, v []byte) bool {
	if bytes.Equal(v, []byte("null")) {
		return true
	}
	n, ok := decodeInt(v)
	if ok {
		*dst = n
	}
	return ok
}

// forEachMember calls fn with the index in keys and the value of each member of
// the JSON object b whose name is one of keys (a later duplicate is called
// again, as encoding/json overwrites). It returns false when b is not an
// object, when a name is escaped or matches a key only case-insensitively
// (encoding/json would read it), or when fn does.
func forEachMember(b []byte, keys []string, fn func(k int, v []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i++
			continue
		case '"':
		default:
			return false
		}
		kend, err := skipString(b, i)
		if err != nil {
			return false
		}
		key := b[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return false
		}
		for k, want := range keys {
			if string(key) == want {
				if !fn(k, b[i:vend]) {
					return false
				}
			} else if strings.EqualFold(string(key), want) {
				return false
			}
		}
		i = vend
	}
}
