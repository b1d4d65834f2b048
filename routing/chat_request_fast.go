package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// chatKeys are the top-level members the fast parser reads, in chatWire order.
var chatKeys = [...]string{"model", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options",
	"tools", "tool_choice", "user", "response_format", "temperature", "top_p", "stop", "n", "prompt_cache_key"}

var messageKeys = [...]string{"role", "content", "name", "tool_call_id", "tool_calls"}

// parseChatFast fills a chatWire from a body checkStrict accepted, without
// encoding/json's two full passes over it: it skips values with the byte
// scanner and decodes only the small fields routing reads, keeping large values
// (message contents, tools) as sub-slices of raw. A field of the wrong type is
// an error naming it as its param. It does not validate values routing never
// reads (a string where a number belongs in an unknown field is left for the
// upstream to reject).
func parseChatFast(raw []byte) (chatWire, error) {
	var w chatWire
	var buf [len(chatKeys)]topLevelSpan
	spans, _, err := scanTopLevel(buf[:], raw, chatKeys[:]...)
	if err != nil {
		return w, errkind.New(errkind.Invalid, "request body must be a JSON object")
	}
	val := func(i int) []byte {
		if spans[i].start < 0 {
			return nil
		}
		return raw[spans[i].start:spans[i].end]
	}
	var ok bool
	if w.Model, ok = decodeString(val(0)); !ok {
		return w, errkind.InvalidParam("model", "model must be a string")
	}
	if msgs := val(1); msgs != nil {
		if w.Messages, err = parseMessagesFast(msgs); err != nil {
			return w, err
		}
	}
	for i, dst := range []**int{&w.MaxTokens, &w.MaxCompletionTokens} {
		if *dst, err = decodeCount(chatKeys[2+i], val(2+i)); err != nil {
			return w, err
		}
	}
	switch v := val(4); {
	case v == nil, bytes.Equal(v, []byte("false")), bytes.Equal(v, []byte("null")):
	case bytes.Equal(v, []byte("true")):
		w.Stream = true
	default:
		return w, errkind.InvalidParam("stream", "stream must be true or false")
	}
	if v := val(5); v != nil {
		// Decoded into a local: &w.StreamOptions would put all of w on the heap.
		so := w.StreamOptions
		if json.Unmarshal(v, &so) != nil {
			return w, errkind.InvalidParam("stream_options", `stream_options must be an object such as {"include_usage":true}`)
		}
		w.StreamOptions = so
	}
	w.Tools, w.ToolChoice = val(6), val(7)
	if w.User, ok = decodeString(val(8)); !ok {
		return w, errkind.InvalidParam("user", "user must be a string")
	}
	if v := val(9); v != nil {
		rf := w.ResponseFormat
		if json.Unmarshal(v, &rf) != nil {
			return w, errkind.InvalidParam("response_format", `response_format must be an object such as {"type":"json_object"}`)
		}
		w.ResponseFormat = rf
	}
	w.Temperature, w.TopP, w.Stop = val(10), val(11), val(12)
	if w.N, err = decodeCount("n", val(13)); err != nil {
		return w, err
	}
	if w.PromptCacheKey, ok = decodeString(val(14)); !ok {
		return w, errkind.InvalidParam("prompt_cache_key", "prompt_cache_key must be a string")
	}
	return w, nil
}

// decodeCount decodes an integer field (max_tokens, n); null and absent give
// nil. Fractions, exponents, strings and values beyond int64 are refused rather
// than read some other way than the upstream reads them; ParseChatRequest
// checks the range.
func decodeCount(param string, v []byte) (*int, error) {
	if v == nil || bytes.Equal(v, []byte("null")) {
		return nil, nil
	}
	n, ok := decodeInt(v)
	if !ok || bytes.ContainsAny(v, ".eE") {
		return nil, errkind.InvalidParam(param, "%s must be an integer", param)
	}
	return &n, nil
}

func parseMessagesFast(b []byte) ([]messageWire, error) {
	if len(b) == 0 || b[0] != '[' {
		if bytes.Equal(b, []byte("null")) {
			return nil, nil
		}
		return nil, errkind.InvalidParam("messages", "messages must be an array of message objects")
	}
	// Every message object has a "role" member, and inside strings that byte
	// sequence cannot occur (their quotes are escaped), so counting it sizes the
	// slice in one cheap pass; a wrong count only costs a regrowth.
	out := make([]messageWire, 0, max(1, bytes.Count(b, []byte(`"role"`))))
	i := 1
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, errkind.New(errkind.Invalid, "request body must be a JSON object")
		}
		switch b[i] {
		case ']':
			return out, nil
		case ',':
			i++
			continue
		case '{':
		default:
			return nil, errkind.InvalidParam(fmt.Sprintf("messages[%d]", len(out)), "each message must be an object")
		}
		end, err := skipValue(b, i)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "request body must be a JSON object")
		}
		elem := b[i:end]
		var buf [len(messageKeys)]topLevelSpan
		spans, _, err := scanTopLevel(buf[:], elem, messageKeys[:]...)
		if err != nil {
			return nil, errkind.New(errkind.Invalid, "request body must be a JSON object")
		}
		val := func(k int) []byte {
			if spans[k].start < 0 {
				return nil
			}
			return elem[spans[k].start:spans[k].end]
		}
		field := func(k int) string { return fmt.Sprintf("messages[%d].%s", len(out), messageKeys[k]) }
		var m messageWire
		var ok bool
		if m.Role, ok = decodeString(val(0)); !ok {
			return nil, errkind.InvalidParam(field(0), "%s must be a string", field(0))
		}
		m.Content = val(1)
		if m.Name, ok = decodeString(val(2)); !ok {
			return nil, errkind.InvalidParam(field(2), "%s must be a string", field(2))
		}
		if m.ToolCallID, ok = decodeString(val(3)); !ok {
			return nil, errkind.InvalidParam(field(3), "%s must be a string", field(3))
		}
		if v := val(4); v != nil {
			// A local, not &m.ToolCalls, which would put every message on the heap.
			var calls []ToolCall
			if json.Unmarshal(v, &calls) != nil {
				return nil, errkind.InvalidParam(field(4), "%s must be an array of tool calls", field(4))
			}
			m.ToolCalls = calls
		}
		out = append(out, m)
		i = end
	}
}

// decodeInt decodes a JSON number into an int as encoding/json would: plain
// integers are parsed directly; anything else (fractions, exponents, overflow)
// is left to encoding/json, which refuses them.
func decodeInt(v []byte) (int, bool) {
	digits := v
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	plain := len(digits) > 0 && len(digits) < 19 && (digits[0] != '0' || len(digits) == 1)
	for _, c := range digits {
		plain = plain && c >= '0' && c <= '9'
	}
	if plain {
		n, err := strconv.Atoi(string(v))
		return n, err == nil
	}
	var n int
	return n, json.Unmarshal(v, &n) == nil
}

// decodeString decodes a JSON string value (nil and null give ""). Strings
// without escapes, control bytes or invalid UTF-8 are copied without
// unquoting; the rest go through encoding/json. A control byte is invalid in
// any JSON string, so it is refused up front.
func decodeString(v []byte) (string, bool) {
	if v == nil || bytes.Equal(v, []byte("null")) {
		return "", true
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	body := v[1 : len(v)-1]
	if hasControlByte(body) {
		return "", false
	}
	if !utf8.Valid(body) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), true
	}
	return unescape(body)
}

// unescape decodes the body of a JSON string with escapes (valid UTF-8, no
// control bytes). The runs between escapes are copied whole: prompts are long
// and escapes (mostly \n) sparse.
func unescape(b []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); i++ {
		k := bytes.IndexByte(b[i:], '\\')
		if k < 0 {
			out.Write(b[i:])
			break
		}
		out.Write(b[i : i+k])
		i += k + 1
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out.WriteByte(b[i])
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2, ok = hex4(b, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out.WriteRune(r)
		default:
			return "", false
		}
	}
	return out.String(), true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
