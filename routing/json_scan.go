package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// errMalformedJSON reports a body that is not a JSON object. ParseChatRequest has
// already validated the body, so seeing it later means a caller built a request by hand.
var errMalformedJSON = errors.New("routing: body is not a JSON object")

// topLevelSpan is the byte range [start,end) of a top-level member's value.
type topLevelSpan struct{ start, end int }

// scanTopLevel walks the members of a JSON object without decoding values and
// reports the value span of each wanted key in buf[:len(keys)] (callers pass an
// array on their stack). It is a single pass with no allocation, which keeps
// model rewriting cheap on large bodies.
// Member names written with escapes are compared unescaped ("max\u005ftokens"
// is max_tokens, as every JSON parser reads it). The body must have passed
// checkStrict: with duplicate names the last one's span wins.
func scanTopLevel(buf []topLevelSpan, raw []byte, keys ...string) ([]topLevelSpan, int, error) {
	spans := buf[:len(keys)]
	for i := range spans {
		spans[i] = topLevelSpan{-1, -1}
	}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, 0, errMalformedJSON
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return nil, 0, errMalformedJSON
		}
		if raw[i] == '}' {
			return spans, i, nil
		}
		if raw[i] == ',' {
			i++
			continue
		}
		if raw[i] != '"' {
			return nil, 0, errMalformedJSON
		}
		kend, err := skipString(raw, i)
		if err != nil {
			return nil, 0, err
		}
		key := raw[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			u, ok := unescape(key)
			if !ok {
				return nil, 0, errMalformedJSON
			}
			key = []byte(u)
		}
		i = skipSpace(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil, 0, errMalformedJSON
		}
		i = skipSpace(raw, i+1)
		vend, err := skipValue(raw, i)
		if err != nil {
			return nil, 0, err
		}
		for k, want := range keys {
			if string(key) == want {
				spans[k] = topLevelSpan{i, vend}
			}
		}
		i = vend
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] == '"'.
// Message contents are most of a body's bytes, so it jumps from quote to quote
// with bytes.IndexByte (vectorised) instead of stepping byte by byte: a quote
// ends the string unless an odd run of backslashes precedes it.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errMalformedJSON
		}
		q := j + k
		slashes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			slashes++
		}
		if slashes%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformedJSON
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errMalformedJSON
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errMalformedJSON
		}
		return j, nil
	}
}

// rewriteBody returns a copy of raw with the top-level "model" replaced and, when
// forceUsage is set, stream_options.include_usage forced to true. When both
// max_tokens and max_completion_tokens are set, the larger is lowered to the
// smaller, the limit Tollgate reserved for, so that no upstream can read the
// other one. Every other byte of the body is copied unchanged.
func rewriteBody(raw []byte, model string, forceUsage bool) ([]byte, error) {
	return rewriteChatBody(raw, model, forceUsage, 0)
}

// rewriteChatBody is rewriteBody for a chat request whose output limit is
// maxTokens (ChatRequest.MaxTokens, the limit Tollgate reserved for): each of
// max_tokens and max_completion_tokens above it is lowered to it, and
// max_tokens is added when the body sets neither (a key's cap, Policy.Keys).
// 0 keeps rewriteBody's rule.
func rewriteChatBody(raw []byte, model string, forceUsage bool, maxTokens int) ([]byte, error) {
	var buf [4]topLevelSpan
	spans, closeIdx, err := scanTopLevel(buf[:], raw, "model", "stream_options", "max_tokens", "max_completion_tokens")
	if err != nil {
		return nil, err
	}
	var quotedBuf, limitBuf [64]byte // the usual model id and limit need no heap
	quoted := appendJSONString(quotedBuf[:0], model)
	type edit struct {
		span topLevelSpan
		with []byte
	}
	// At most four edits (model, stream_options, the two limits), in an
	// array: append could grow onto the heap and take the buffers along.
	var editBuf [4]edit
	ne := 0
	add := func(e edit) { editBuf[ne] = e; ne++ }
	if spans[0].start >= 0 {
		add(edit{spans[0], quoted})
	}
	var appendix []byte
	if spans[0].start < 0 {
		appendix = append(appendix, `"model":`...)
		appendix = append(appendix, quoted...)
	}
	if forceUsage {
		so := spans[1]
		if so.start >= 0 && raw[so.start] == '{' {
			var opts map[string]json.RawMessage
			if err := json.Unmarshal(raw[so.start:so.end], &opts); err != nil {
				return nil, err
			}
			opts["include_usage"] = json.RawMessage("true")
			merged, err := json.Marshal(opts)
			if err != nil {
				return nil, err
			}
			add(edit{so, merged})
		} else if so.start >= 0 {
			add(edit{so, []byte(`{"include_usage":true}`)})
		} else {
			if len(appendix) > 0 {
				appendix = append(appendix, ',')
			}
			appendix = append(appendix, `"stream_options":{"include_usage":true}`...)
		}
	}
	if mt, mct := spans[2], spans[3]; maxTokens > 0 {
		limit := strconv.AppendInt(limitBuf[:0], int64(maxTokens), 10)
		for _, sp := range []topLevelSpan{mt, mct} {
			if sp.start < 0 {
				continue
			}
			if v, ok := decodeInt(raw[sp.start:sp.end]); !ok || v > maxTokens {
				add(edit{sp, limit})
			}
		}
		if mt.start < 0 && mct.start < 0 {
			if len(appendix) > 0 {
				appendix = append(appendix, ',')
			}
			appendix = append(appendix, `"max_tokens":`...)
			appendix = append(appendix, limit...)
		}
	} else if mt.start >= 0 && mct.start >= 0 {
		a, aok := decodeInt(raw[mt.start:mt.end])
		b, bok := decodeInt(raw[mct.start:mct.end])
		switch {
		case aok && bok && a < b:
			add(edit{mct, raw[mt.start:mt.end]})
		case aok && bok && b < a:
			add(edit{mt, raw[mct.start:mct.end]})
		}
	}
	// Sorted in place: slices.SortFunc, too, would move the buffers to the heap.
	edits := editBuf[:ne]
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].span.start < edits[j-1].span.start; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	out := make([]byte, 0, len(raw)+len(model)+len(appendix)+48)
	prev := 0
	for _, e := range edits {
		out = append(out, raw[prev:e.span.start]...)
		out = append(out, e.with...)
		prev = e.span.end
	}
	if len(appendix) == 0 {
		return append(out, raw[prev:]...), nil
	}
	out = append(out, raw[prev:closeIdx]...)
	// Is the object empty up to the closing brace? Then no comma is needed.
	j := len(out) - 1
	for j >= 0 && (out[j] == ' ' || out[j] == '\n' || out[j] == '\t' || out[j] == '\r') {
		j--
	}
	if j >= 0 && out[j] != '{' {
		out = append(out, ',')
	}
	out = append(out, appendix...)
	return append(out, raw[closeIdx:]...), nil
}
