package routing

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// chatKeys are the top-level members the fast parser reads, in chatWire order.
var chatKeys = [...]string{"model", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options",
	"tools", "tool_choice", "user", "response_format", "temperature", "top_p", "stop"}

var messageKeys = [...]string{"role", "content", "name", "tool_call_id", "tool_calls"}

// parseChatFast fills a chatWire from raw without encoding/json's two full
// passes over the body: it skips values with the byte scanner and decodes only
// the small fields routing reads, keeping large values (message contents,
// tools) as sub-slices of raw. On anything unusual (escaped keys, unexpected
// types, trailing data) it reports false and the caller falls back to
// encoding/json, which then also produces the precise error message. It does
// not validate values routing never reads (a malformed number in an unknown
// field is left for the upstream to reject).
func parseChatFast(raw []byte) (chatWire, bool) {
	var w chatWire
	spans, closeIdx, err := scanTopLevel(raw, chatKeys[:]...)
	if err != nil || skipSpace(raw, closeIdx+1) != len(raw) {
		return w, false
	}
	val := func(i int) []byte {
		if spans[i].start < 0 {
			return nil
		}
		return raw[spans[i].start:spans[i].end]
	}
	var ok bool
	if w.Model, ok = decodeString(val(0)); !ok {
		return w, false
	}
	if msgs := val(1); msgs != nil {
		if w.Messages, ok = parseMessagesFast(msgs); !ok {
			return w, false
		}
	}
	for i, dst := range []**int{&w.MaxTokens, &w.MaxCompletionTokens} {
		if v := val(2 + i); v != nil && !bytes.Equal(v, []byte("null")) {
			n, ok := decodeInt(v)
			if !ok {
				return w, false
			}
			*dst = &n
		}
	}
	switch v := val(4); {
	case v == nil, bytes.Equal(v, []byte("false")), bytes.Equal(v, []byte("null")):
	case bytes.Equal(v, []byte("true")):
		w.Stream = true
	default:
		return w, false
	}
	if v := val(5); v != nil && json.Unmarshal(v, &w.StreamOptions) != nil {
		return w, false
	}
	w.Tools, w.ToolChoice = val(6), val(7)
	if w.User, ok = decodeString(val(8)); !ok {
		return w, false
	}
	if v := val(9); v != nil && json.Unmarshal(v, &w.ResponseFormat) != nil {
		return w, false
	}
	w.Temperature, w.TopP, w.Stop = val(10), val(11), val(12)
	return w, true
}

func parseMessagesFast(b []byte) ([]messageWire, bool) {
	if len(b) == 0 || b[0] != '[' {
		return nil, bytes.Equal(b, []byte("null"))
	}
	// Every message object has a "role" member, and inside strings that byte
	// sequence cannot occur (their quotes are escaped), so counting it sizes the
	// slice in one cheap pass; a wrong count only costs a regrowth.
	out := make([]messageWire, 0, max(1, bytes.Count(b, []byte(`"role"`))))
	i := 1
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ']':
			return out, true
		case ',':
			i++
			continue
		case '{':
		default:
			return nil, false
		}
		end, err := skipValue(b, i)
		if err != nil {
			return nil, false
		}
		elem := b[i:end]
		spans, _, err := scanTopLevel(elem, messageKeys[:]...)
		if err != nil {
			return nil, false
		}
		val := func(k int) []byte {
			if spans[k].start < 0 {
				return nil
			}
			return elem[spans[k].start:spans[k].end]
		}
		var m messageWire
		var ok bool
		if m.Role, ok = decodeString(val(0)); !ok {
			return nil, false
		}
		m.Content = val(1)
		if m.Name, ok = decodeString(val(2)); !ok {
			return nil, false
		}
		if m.ToolCallID, ok = decodeString(val(3)); !ok {
			return nil, false
		}
		if v := val(4); v != nil && json.Unmarshal(v, &m.ToolCalls) != nil {
			return nil, false
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
	for _, c := range body {
		if c < 0x20 {
			return "", false
		}
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
