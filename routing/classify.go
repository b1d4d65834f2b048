package routing

import (
	"slices"
	"strings"
)

// Features are everything selection reads from a request, and nothing of its
// content: the usage ledger stores them per request (route_features), so a
// replay decides exactly as live did for threshold, tier and model changes.
type Features struct {
	// PromptTokens is the estimated prompt size the gateway routed and
	// reserved with (context-window checks read it).
	PromptTokens int `json:"prompt_tokens"`
	// CodeBlocks counts fenced ``` blocks in the turn.
	CodeBlocks int `json:"code_blocks,omitempty"`
	// Tools is true when the request offers tools.
	Tools bool `json:"tools,omitempty"`
	// Images is true when any message carries an image.
	Images bool `json:"images,omitempty"`
	// WantsJSON is true when response_format asks for JSON.
	WantsJSON bool `json:"wants_json,omitempty"`
	// Turns counts user messages (conversation depth; informational).
	Turns int `json:"turns,omitempty"`
	// PStandard is the classifier's probability that the turn needs more than
	// an economy model; PPremium that it needs a premium one.
	PStandard float64 `json:"p_standard"`
	PPremium  float64 `json:"p_premium"`
	// Classifier names the model that scored the turn ("builtin" or the
	// tenant's own); ModelStandard and ModelPremium are its default thresholds,
	// which a policy without thresholds of its own uses.
	Classifier string `json:"classifier,omitempty"`
	// ShortTurn is true for a turn of a few words with no sign of difficulty
	// (classifier.go), which "auto" serves on the economy tier whatever its
	// probability.
	ShortTurn     bool    `json:"short_turn,omitempty"`
	ModelStandard float64 `json:"model_standard,omitempty"`
	ModelPremium  float64 `json:"model_premium,omitempty"`
	// KeywordRules names the policy's keyword rules whose keywords occurred in
	// the turn as whole words. A replay matches keyword rules by these names:
	// changed keywords need the text, which only a tenant that keeps prompts
	// (retain_prompts_days) has.
	KeywordRules []string `json:"keyword_rules,omitempty"`
	// Conversation is the conversation key this turn looked up for session
	// affinity, and ConversationNext the key it stored its model under (equal
	// for explicit keys; for history hashes the next turn looks up this
	// turn's full history). Hex of a 64-bit hash, never content.
	Conversation     string `json:"conversation,omitempty"`
	ConversationNext string `json:"conversation_next,omitempty"`
}

// ExtractFeatures reads the structural inputs from req; promptTokens comes
// from the Estimator so the prompt is tokenized once per request. The
// classifier's probabilities are added by the Selector.
func ExtractFeatures(req *ChatRequest, promptTokens int) Features {
	f := Features{PromptTokens: promptTokens, Tools: req.HasTools(),
		WantsJSON: req.ResponseFormat == "json_object" || req.ResponseFormat == "json_schema"}
	for i := range req.Messages {
		m := &req.Messages[i]
		f.Images = f.Images || m.HasImage
		if m.Role == "user" {
			f.Turns++
		}
	}
	fences := 0
	for i := turnStart(req.Messages); i < len(req.Messages); i++ {
		if m := &req.Messages[i]; m.Role == "user" || m.Role == "tool" {
			fences += strings.Count(m.Text, "```")
		}
	}
	f.CodeBlocks = fences / 2
	return f
}

// keywordScanLimit bounds the text keyword rules read: the turn's messages,
// each by its first and last keywordScanLimit/2 bytes.
const keywordScanLimit = 2 << 10

// keywordText is the lowercased window of the turn keyword rules match in.
func keywordText(req *ChatRequest) string {
	var sb strings.Builder
	for i := turnStart(req.Messages); i < len(req.Messages); i++ {
		m := &req.Messages[i]
		if m.Role != "user" && m.Role != "tool" {
			continue
		}
		text := m.Text
		if len(text) > keywordScanLimit {
			text = text[:keywordScanLimit/2] + "\n" + text[len(text)-keywordScanLimit/2:]
		}
		if sb.Len() > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(text)
		if sb.Len() >= keywordScanLimit {
			break
		}
	}
	return strings.ToLower(sb.String())
}

// KeywordText is the text keyword rules match: the lowercased scan window of
// the turn (user and tool messages since the last assistant turn). It is
// content: only a tenant that opted in (retain_prompts_days) keeps it, sealed,
// so the what-if can match new keyword rules exactly as live would.
func KeywordText(req *ChatRequest) string { return keywordText(req) }

// matchKeywords records which of the policy's keyword rules match the turn.
// turn gives its keyword text, read only when a rule has keywords (building
// the lowercased text costs).
func (f *Features) matchKeywords(rules []Rule, turn func() string) {
	f.KeywordRules = nil
	text, read := "", false
	for _, r := range rules {
		for _, k := range r.Keywords {
			if !read {
				text, read = turn(), true
			}
			if containsWord(text, strings.ToLower(strings.TrimSpace(k))) {
				f.KeywordRules = append(f.KeywordRules, r.Name)
				break
			}
		}
	}
}

// matches reports whether rule r applies to the features. Keyword rules match
// by the names recorded in KeywordRules, so live and replay agree.
func (r Rule) matches(f Features) bool {
	if r.MinPromptTokens > 0 && f.PromptTokens < r.MinPromptTokens {
		return false
	}
	if r.Tools && !f.Tools || r.Images && !f.Images || f.CodeBlocks < r.MinCodeBlocks {
		return false
	}
	return len(r.Keywords) == 0 || slices.Contains(f.KeywordRules, r.Name)
}

// servedBy reports whether model m can serve a request with these features.
// ServedBy reports whether m can serve a request with these features (tools,
// images, JSON mode, context size): what a cheaper model must pass to stand
// in for another.
func (f Features) ServedBy(m Model) bool { return f.servedBy(m) }

func (f Features) servedBy(m Model) bool {
	return (!f.Tools || m.Capabilities.Tools) && (!f.Images || m.Capabilities.Vision) && (!f.WantsJSON || m.Capabilities.JSON) &&
		(m.ContextWindow == 0 || f.PromptTokens < m.ContextWindow)
}
