package routing

import "strings"

// Complexity is the classifier's verdict on how hard a prompt is.
type Complexity string

// Complexity values.
const (
	ComplexitySimple  Complexity = "simple"
	ComplexityComplex Complexity = "complex"
)

// reasoningCues are phrases that signal a prompt wants careful reasoning.
// Matched case-insensitively as substrings of the last user message.
var reasoningCues = [...]string{
	"prove", "proof", "step by step", "step-by-step", "analyze", "analyse", "derive",
	"reason about", "think carefully", "explain why", "root cause", "debug", "refactor",
	"optimize", "architecture", "trade-off", "tradeoff", "theorem", "algorithm",
	"complexity", "evaluate", "compare",
}

// cueScanLimit bounds how much of the last user message is scanned for cues
// and keyword rules: its first and last cueScanLimit/2 bytes, where the
// instruction usually sits around pasted material. This keeps classification
// O(1) on huge prompts (22 substring scans of 2 KB cost ~10 µs).
const cueScanLimit = 2 << 10

// Features are what the classifier reads from a request. They are also what a
// replay record may carry instead of the messages.
type Features struct {
	// PromptTokens is the estimated prompt size.
	PromptTokens int `json:"prompt_tokens"`
	// CodeBlocks counts fenced ``` blocks across all messages.
	CodeBlocks int `json:"code_blocks"`
	// ReasoningCues counts distinct cue phrases in the last user message.
	ReasoningCues int `json:"reasoning_cues"`
	// Tools is true when the request offers tools.
	Tools bool `json:"tools"`
	// Images is true when any message carries an image.
	Images bool `json:"images"`
	// WantsJSON is true when response_format asks for JSON.
	WantsJSON bool `json:"wants_json"`
	// Turns counts user messages (conversation depth).
	Turns int `json:"turns"`
	// lastUser is the lowercased head of the last user message, for keyword rules.
	lastUser string
}

// ExtractFeatures reads the classifier's inputs from req; promptTokens comes
// from the Estimator so the prompt is tokenized once per request.
func ExtractFeatures(req *ChatRequest, promptTokens int) Features {
	f := Features{PromptTokens: promptTokens, Tools: req.HasTools(),
		WantsJSON: req.ResponseFormat == "json_object" || req.ResponseFormat == "json_schema"}
	fences := 0
	last := -1
	for i := range req.Messages {
		m := &req.Messages[i]
		fences += strings.Count(m.Text, "```")
		f.Images = f.Images || m.HasImage
		if m.Role == "user" {
			f.Turns++
			last = i
		}
	}
	f.CodeBlocks = fences / 2
	if last >= 0 {
		text := req.Messages[last].Text
		if len(text) > cueScanLimit {
			text = text[:cueScanLimit/2] + "\n" + text[len(text)-cueScanLimit/2:]
		}
		f.lastUser = strings.ToLower(text)
		for _, cue := range reasoningCues {
			if strings.Contains(f.lastUser, cue) {
				f.ReasoningCues++
			}
		}
	}
	return f
}

// Score weighs the features: large prompts, code, reasoning cues, tools, images
// and long conversations each push towards the stronger tier.
func (f Features) Score() int {
	s := 0
	switch {
	case f.PromptTokens >= 4000:
		s += 2
	case f.PromptTokens >= 1000:
		s++
	}
	switch {
	case f.CodeBlocks >= 3:
		s += 2
	case f.CodeBlocks >= 1:
		s++
	}
	switch {
	case f.ReasoningCues >= 2:
		s += 3
	case f.ReasoningCues == 1:
		s += 2
	}
	if f.Tools {
		s++
	}
	if f.Images {
		s++
	}
	if f.Turns >= 6 {
		s++
	}
	return s
}

// Classify returns the complexity for a threshold (Policy.ComplexScore).
func (f Features) Classify(threshold int) Complexity {
	if f.Score() >= threshold {
		return ComplexityComplex
	}
	return ComplexitySimple
}

// matches reports whether rule r applies to the features.
func (r Rule) matches(f Features) bool {
	if r.MinPromptTokens > 0 && f.PromptTokens < r.MinPromptTokens {
		return false
	}
	if r.Tools && !f.Tools || r.Images && !f.Images || f.CodeBlocks < r.MinCodeBlocks {
		return false
	}
	if len(r.Keywords) == 0 {
		return true
	}
	for _, k := range r.Keywords {
		if k != "" && strings.Contains(f.lastUser, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

// needs reports whether model m can serve a request with these features.
func (f Features) servedBy(m Model) bool {
	return (!f.Tools || m.Capabilities.Tools) && (!f.Images || m.Capabilities.Vision) && (!f.WantsJSON || m.Capabilities.JSON) &&
		(m.ContextWindow == 0 || f.PromptTokens < m.ContextWindow)
}
