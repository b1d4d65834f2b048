package routing

import (
	"encoding/json"
	"strings"
)

// readChunk reads what a stream keeps of one chat.completion.chunk payload: it
// appends the text and tool-call arguments of its choices, in order, to
// content, and returns how many choices it has and its usage object (nil when
// absent or null). ok is false, and nothing is appended, when p is not valid
// JSON.
//
// It walks the few members it reads with the body scanner instead of
// json.Unmarshal into nested structs: the reflective decoder recurses a frame
// of about 1 KB per object level, which took the relay loop past 8 KB of stack
// and so doubled the stack every in-flight stream holds. Member names are
// matched exactly (upstreams write them so), not case-insensitively as
// encoding/json does.
func readChunk(p []byte, content *strings.Builder) (choices int, usage []byte, ok bool) {
	if !json.Valid(p) {
		return 0, nil, false
	}
	var buf [2]topLevelSpan
	top, _, err := scanTopLevel(buf[:0], p, "choices", "usage")
	if err != nil {
		return 0, nil, false
	}
	if u := top[1]; u.start >= 0 && p[u.start] == '{' {
		usage = p[u.start:u.end]
	}
	if c := top[0]; c.start >= 0 {
		forEachElement(p[c.start:c.end], func(choice []byte) {
			choices++
			delta := member(choice, "delta")
			appendString(content, member(delta, "content"))
			forEachElement(member(delta, "tool_calls"), func(call []byte) {
				appendString(content, member(member(call, "function"), "arguments"))
			})
		})
	}
	return choices, usage, true
}

// member returns the value of the member key of the object obj, or nil when obj
// is not an object or has no such member. obj must be valid JSON.
func member(obj []byte, key string) []byte {
	if len(obj) == 0 || obj[0] != '{' {
		return nil
	}
	var buf [1]topLevelSpan
	s, _, err := scanTopLevel(buf[:0], obj, key)
	if err != nil || s[0].start < 0 {
		return nil
	}
	return obj[s[0].start:s[0].end]
}

// forEachElement calls fn with each element of the array arr; nothing when arr
// is not an array. arr must be valid JSON.
func forEachElement(arr []byte, fn func([]byte)) {
	if len(arr) == 0 || arr[0] != '[' {
		return
	}
	for i := 1; ; {
		i = skipSpace(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		if arr[i] == ',' {
			i++
			continue
		}
		end, err := skipValue(arr, i)
		if err != nil {
			return
		}
		fn(arr[i:end])
		i = end
	}
}

// appendString appends the JSON string v, unescaped, to b; nothing when v is
// not a string.
func appendString(b *strings.Builder, v []byte) {
	if len(v) < 2 || v[0] != '"' {
		return
	}
	s := v[1 : len(v)-1]
	if strings.IndexByte(string(s), '\\') < 0 {
		b.Write(s)
		return
	}
	if u, ok := unescape(s); ok {
		b.WriteString(u)
	}
}
