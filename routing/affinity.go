package routing

import (
	"container/list"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Conversation keys. A turn looks up the model its conversation is on and
// stores the model it chose; the keys come from, in order of preference, the
// x-tollgate-conversation header, prompt_cache_key, the user field, or else a
// hash of the whole history: a turn looks up the hash of everything before its
// last assistant message, which is the previous turn's full history, and
// stores under the hash of its own full history. Two chats that share a
// persona and an opening line never share a key. Keys are stable 64-bit hashes
// (the ledger stores them), scoped by tenant, and never reveal content.

// conversationKeys returns the lookup and store keys of req in tenant; ok is
// false for a first turn with no explicit key (nothing to look up), in which
// case only next is set.
func conversationKeys(tenant string, req *ChatRequest) (lookup, next uint64, ok bool) {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(tenant)
	for _, k := range [...]struct{ kind, v string }{{"c", req.Conversation}, {"p", req.PromptCacheKey}, {"u", req.User}} {
		if k.v != "" {
			_, _ = d.WriteString("\x00" + k.kind + "\x00")
			_, _ = d.WriteString(k.v)
			s := d.Sum64()
			return s, s, true
		}
	}
	_, _ = d.WriteString("\x00h")
	lastAssistant := -1
	for i := range req.Messages {
		if req.Messages[i].Role == "assistant" {
			lastAssistant = i
		}
	}
	for i := range req.Messages {
		if i == lastAssistant {
			lookup, ok = d.Sum64(), true
		}
		writeMessage(&d, &req.Messages[i])
	}
	return lookup, d.Sum64(), ok
}

func writeMessage(d *xxhash.Digest, m *Message) {
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(m.Role)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(m.Name)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(m.ToolCallID)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(m.Text)
	for _, tc := range m.ToolCalls {
		_, _ = d.WriteString("\x00")
		_, _ = d.WriteString(tc.ID)
		_, _ = d.WriteString(tc.Function.Name)
		_, _ = d.WriteString(tc.Function.Arguments)
	}
}

func keyString(k uint64) string { return strconv.FormatUint(k, 16) }

func parseKey(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	k, err := strconv.ParseUint(s, 16, 64)
	return k, err == nil
}

// affinityEntry is where a conversation is.
type affinityEntry struct {
	key uint64
	// model is the model of the conversation's last turn.
	model string
	// base is the model the conversation was on before an escalation, "" if
	// none (informational); streak counts the consecutive turns that wanted a
	// tier above economy (1 = a one-off, which a clearly easy turn may step
	// down from; a lighter turn resets it, so a key shared by many chats, such
	// as a user id, cannot pin them all to the stronger model).
	base   string
	streak int
}

// affinityCache is a bounded, concurrency-safe LRU from conversation to its
// entry. It is per process: a conversation that hops replicas may start a
// second entry, which only costs a colder prompt cache.
type affinityCache struct {
	max int

	mu    sync.Mutex
	order *list.List // front = most recent; values are *affinityEntry
	byKey map[uint64]*list.Element
}

func newAffinityCache(size int) *affinityCache {
	return &affinityCache{max: size, order: list.New(), byKey: make(map[uint64]*list.Element, min(size, 1024))}
}

func (c *affinityCache) get(k uint64) (affinityEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return *e.Value.(*affinityEntry), true
	}
	return affinityEntry{}, false
}

func (c *affinityCache) put(v affinityEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[v.key]; ok {
		*e.Value.(*affinityEntry) = v
		c.order.MoveToFront(e)
		return
	}
	c.byKey[v.key] = c.order.PushFront(&v)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*affinityEntry).key)
	}
}
