package routing

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// The strict reading. Tollgate reserves from the fields it parses and forwards
// the body unchanged, so it and the upstream must read the same request.
// Parsers disagree on ambiguous JSON: Go's encoding/json matches member names
// case-insensitively, OpenAI's takes the last of duplicate members and only
// exact-case names. checkStrict refuses what two parsers could read
// differently, in one scan of the raw bytes: invalid UTF-8 or JSON, trailing
// data, duplicate member names (compared after unescaping) in any object at any
// depth, and names that differ from a field Tollgate reads only in case.

// maxJSONDepth bounds nesting, so a hostile body cannot grow the stack.
const maxJSONDepth = 128

// keySchema lists the member names Tollgate reads in one object, and the schema
// of members whose values (or array elements) are objects it reads too.
type keySchema struct {
	keys     []string
	children map[string]*keySchema
	// closed refuses members not in keys (a translated API, where a member
	// Tollgate does not know would otherwise be dropped); refused names the
	// members it knows but does not serve, with the reason. api names the API
	// in the error.
	closed  bool
	refused map[string]string
	api     string
}

// member checks a member name of a closed schema. The path becomes a param
// only on error: rendering it for every member of every body cost two
// allocations a member.
func (s *keySchema) member(key []byte, path []pathSeg) error {
	if s == nil || !s.closed {
		return nil
	}
	if why, ok := s.refused[string(key)]; ok {
		return unsupportedMember(param(path), why)
	}
	for _, k := range s.keys {
		if string(key) == k {
			return nil
		}
	}
	return unknownMember(param(path), s.api)
}

func (s *keySchema) child(key []byte) *keySchema {
	if s == nil || s.children == nil {
		return nil
	}
	return s.children[string(key)]
}

// caseVariant returns the known name key differs from only in case, or "".
// Case is folded as encoding/json folds it, Unicode included: the Kelvin sign
// matches "k" ("max_to\u212aens" is a variant of max_tokens).
func (s *keySchema) caseVariant(key []byte) string {
	if s == nil {
		return ""
	}
	for _, k := range s.keys {
		if string(key) == k {
			return ""
		}
	}
	name := string(key)
	for _, k := range s.keys {
		if strings.EqualFold(name, k) {
			return k
		}
	}
	return ""
}

var (
	chatSchema = &keySchema{
		keys: chatKeys[:],
		children: map[string]*keySchema{
			"messages": {keys: messageKeys[:], children: map[string]*keySchema{
				"tool_calls": {keys: []string{"id", "type", "function"}, children: map[string]*keySchema{
					"function": {keys: []string{"name", "arguments"}},
				}},
			}},
			"stream_options":  {keys: []string{"include_usage"}},
			"response_format": {keys: []string{"type", "json_schema"}},
		},
	}
	embeddingSchema = &keySchema{keys: embeddingKeys[:]}
)

// pathSeg is one step of the path to a value: a member name, or (key nil) an
// array index.
type pathSeg struct {
	key   []byte
	index int
}

// param renders a path as an OpenAI error param: "messages[2].role".
func param(path []pathSeg) string {
	var b strings.Builder
	for _, s := range path {
		if s.key == nil {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(s.key)
	}
	return b.String()
}

// strictScanner walks a body once. keys is a stack of the member names of the
// objects being walked (each object compares its names with each other only),
// path the way to the current value, turned into a param only on error.
type strictScanner struct {
	b    []byte
	keys [][]byte
	path []pathSeg
}

// scanners recycles the scanners' name and path stacks, two allocations of
// every request otherwise; a scanner lives for one checkStrict call.
var scanners = sync.Pool{New: func() any {
	return &strictScanner{keys: make([][]byte, 0, 32), path: make([]pathSeg, 0, 8)}
}}

// release returns s to the pool without references into the body it read;
// stacks a deep or wide body grew are left to the collector.
func (s *strictScanner) release() {
	if cap(s.keys) > 1024 || cap(s.path) > 1024 {
		return
	}
	clear(s.keys[:cap(s.keys)])
	clear(s.path[:cap(s.path)])
	s.b, s.keys, s.path = nil, s.keys[:0], s.path[:0]
	scanners.Put(s)
}

// checkStrict validates raw as one unambiguous JSON object. Its errors are
// errkind.Invalid and name the member at fault as their param.
func checkStrict(raw []byte, schema *keySchema) error {
	if !utf8.Valid(raw) {
		return errkind.New(errkind.Invalid, "request body is not valid UTF-8")
	}
	s := scanners.Get().(*strictScanner)
	defer s.release()
	s.b = raw
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errkind.New(errkind.Invalid, "request body must be a JSON object")
	}
	end, err := s.value(i, schema, 0)
	if err != nil {
		return err
	}
	if j := skipSpace(raw, end); j != len(raw) {
		return errkind.New(errkind.Invalid, "request body has data after its JSON object (byte %d); send exactly one JSON object", j)
	}
	return nil
}

func (s *strictScanner) syntax(i int) error {
	return errkind.New(errkind.Invalid, "request body is not valid JSON (near byte %d)", i)
}

// value validates the value at b[i] and returns the index past it. schema is
// what Tollgate reads of it (nil: nothing).
func (s *strictScanner) value(i int, schema *keySchema, depth int) (int, error) {
	b := s.b
	if i >= len(b) {
		return 0, s.syntax(i)
	}
	switch c := b[i]; {
	case c == '{':
		return s.object(i, schema, depth+1)
	case c == '[':
		return s.array(i, schema, depth+1)
	case c == '"':
		return s.str(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number(i)
	}
	return 0, s.syntax(i)
}

func (s *strictScanner) literal(i int, lit string) (int, error) {
	if !bytes.HasPrefix(s.b[i:], []byte(lit)) {
		return 0, s.syntax(i)
	}
	return i + len(lit), nil
}

// number validates JSON's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (s *strictScanner) number(i int) (int, error) {
	b := s.b
	j := i
	if b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(b) && b[j] == '0' {
		j++
	} else if digits() == 0 {
		return 0, s.syntax(i)
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			return 0, s.syntax(i)
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, s.syntax(i)
		}
	}
	return j, nil
}

// str validates the string at b[i] == '"' (its escapes and the absence of raw
// control bytes; UTF-8 was checked for the whole body) and returns the index
// past it. Like skipString it jumps
// between quotes and backslashes with bytes.IndexByte: prompts are long.
func (s *strictScanner) str(i int) (int, error) {
	b := s.b
	j, q := i+1, -1 // q: the next quote at or after j, found once per quote
	for {
		if q < j {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				return 0, s.syntax(i)
			}
			q = j + k
		}
		bs := bytes.IndexByte(b[j:q], '\\')
		if bs < 0 {
			if hasControlByte(b[i+1 : q]) {
				return 0, errkind.New(errkind.Invalid, "request body is not valid JSON: a string holds a raw control character "+
					"(near byte %d); escape it (\\n, \\t, \\u0001)", i)
			}
			return q + 1, nil
		}
		j += bs + 1
		if j >= len(b) {
			return 0, s.syntax(i)
		}
		switch b[j] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j++
		case 'u':
			if _, ok := hex4(b, j+1); !ok {
				return 0, s.syntax(j)
			}
			j += 5
		default:
			return 0, s.syntax(j)
		}
	}
}

func (s *strictScanner) array(i int, schema *keySchema, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, errkind.New(errkind.Invalid, "request body nests deeper than %d levels", maxJSONDepth)
	}
	b := s.b
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == ']' {
		return j + 1, nil
	}
	for n := 0; ; n++ {
		s.path = append(s.path, pathSeg{index: n})
		end, err := s.value(j, schema, depth)
		if err != nil {
			return 0, err
		}
		s.path = s.path[:len(s.path)-1]
		j = skipSpace(b, end)
		if j >= len(b) {
			return 0, s.syntax(j)
		}
		switch b[j] {
		case ']':
			return j + 1, nil
		case ',':
			j = skipSpace(b, j+1)
		default:
			return 0, s.syntax(j)
		}
	}
}

// manyKeys is the member count above which an object's names are compared
// through a map rather than with each other.
const manyKeys = 32

func (s *strictScanner) object(i int, schema *keySchema, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, errkind.New(errkind.Invalid, "request body nests deeper than %d levels", maxJSONDepth)
	}
	b := s.b
	base := len(s.keys)
	defer func() { s.keys = s.keys[:base] }()
	var seen map[string]bool
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, nil
	}
	for {
		if j >= len(b) || b[j] != '"' {
			return 0, s.syntax(j)
		}
		kend, err := s.str(j)
		if err != nil {
			return 0, err
		}
		key := b[j+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			u, _ := unescape(key) // valid: str checked the escapes
			key = []byte(u)
		}
		s.path = append(s.path, pathSeg{key: key})
		if err := s.addKey(key, base, &seen); err != nil {
			return 0, errkind.InvalidParam(param(s.path), "request body has the member %q twice in one object; "+
				"parsers disagree on which one counts, so send it once", key)
		}
		if known := schema.caseVariant(key); known != "" {
			return 0, errkind.InvalidParam(param(s.path), "unknown member %q: member names are case-sensitive; did you mean %q?", key, known)
		}
		if err := schema.member(key, s.path); err != nil {
			return 0, err
		}
		j = skipSpace(b, kend)
		if j >= len(b) || b[j] != ':' {
			return 0, s.syntax(j)
		}
		end, err := s.value(skipSpace(b, j+1), schema.child(key), depth)
		if err != nil {
			return 0, err
		}
		s.path = s.path[:len(s.path)-1]
		j = skipSpace(b, end)
		if j >= len(b) {
			return 0, s.syntax(j)
		}
		switch b[j] {
		case '}':
			return j + 1, nil
		case ',':
			j = skipSpace(b, j+1)
		default:
			return 0, s.syntax(j)
		}
	}
}

// addKey records key among the names of the object whose names start at
// s.keys[base]; it fails when the object already has it.
func (s *strictScanner) addKey(key []byte, base int, seen *map[string]bool) error {
	names := s.keys[base:]
	if *seen == nil && len(names) < manyKeys {
		for _, k := range names {
			if bytes.Equal(k, key) {
				return errDuplicateKey
			}
		}
		s.keys = append(s.keys, key)
		return nil
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*manyKeys)
		for _, k := range names {
			(*seen)[string(k)] = true
		}
	}
	if (*seen)[string(key)] {
		return errDuplicateKey
	}
	(*seen)[string(key)] = true
	return nil
}

var errDuplicateKey = errkind.New(errkind.Invalid, "duplicate member name")

// hasControlByte reports whether b holds a byte below 0x20, which a JSON string
// may not. It tests eight bytes at a time: a word holds a byte below 0x20 iff
// (w - 0x2020…20) & ^w & 0x8080…80 != 0.
func hasControlByte(b []byte) bool {
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if (w-0x2020202020202020)&^w&0x8080808080808080 != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}
