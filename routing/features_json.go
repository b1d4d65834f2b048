package routing

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends f exactly as json.Marshal writes it, without its
// reflection: the gateway records every routed request's features in the
// ledger. ok is false where json.Marshal fails (a NaN or infinite
// probability).
func (f *Features) AppendJSON(b []byte) (_ []byte, ok bool) {
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(f.PromptTokens), 10)
	if f.CodeBlocks != 0 {
		b = append(b, `,"code_blocks":`...)
		b = strconv.AppendInt(b, int64(f.CodeBlocks), 10)
	}
	if f.Tools {
		b = append(b, `,"tools":true`...)
	}
	if f.Images {
		b = append(b, `,"images":true`...)
	}
	if f.WantsJSON {
		b = append(b, `,"wants_json":true`...)
	}
	if f.Turns != 0 {
		b = append(b, `,"turns":`...)
		b = strconv.AppendInt(b, int64(f.Turns), 10)
	}
	if b, ok = appendJSONFloat(append(b, `,"p_standard":`...), f.PStandard); !ok {
		return b, false
	}
	if b, ok = appendJSONFloat(append(b, `,"p_premium":`...), f.PPremium); !ok {
		return b, false
	}
	if f.Classifier != "" {
		b = appendJSONString(append(b, `,"classifier":`...), f.Classifier)
	}
	if f.ShortTurn {
		b = append(b, `,"short_turn":true`...)
	}
	if f.ModelStandard != 0 {
		if b, ok = appendJSONFloat(append(b, `,"model_standard":`...), f.ModelStandard); !ok {
			return b, false
		}
	}
	if f.ModelPremium != 0 {
		if b, ok = appendJSONFloat(append(b, `,"model_premium":`...), f.ModelPremium); !ok {
			return b, false
		}
	}
	if len(f.KeywordRules) > 0 {
		b = append(b, `,"keyword_rules":[`...)
		for i, r := range f.KeywordRules {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r)
		}
		b = append(b, ']')
	}
	if f.Conversation != "" {
		b = appendJSONString(append(b, `,"conversation":`...), f.Conversation)
	}
	if f.ConversationNext != "" {
		b = appendJSONString(append(b, `,"conversation_next":`...), f.ConversationNext)
	}
	return append(b, '}'), true
}

// appendJSONFloat writes v as encoding/json writes a float64.
func appendJSONFloat(b []byte, v float64) ([]byte, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString writes s as encoding/json writes a string: plain ASCII as
// is, anything that needs escaping (HTML characters included) through
// encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
