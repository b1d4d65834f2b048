package routing

import (
	"container/list"
	"hash/maphash"
	"sync"
)

// AffinityKey identifies a conversation within a tenant.
type AffinityKey uint64

// affinityCache is a bounded, concurrency-safe LRU from conversation to the
// model it started on. It is per process: a conversation that hops replicas
// may start a second entry, which only costs a colder prompt cache.
type affinityCache struct {
	seed maphash.Seed
	max  int

	mu    sync.Mutex
	order *list.List // front = most recent; values are *affinityEntry
	byKey map[AffinityKey]*list.Element
}

type affinityEntry struct {
	key   AffinityKey
	model string
}

func newAffinityCache(size int) *affinityCache {
	return &affinityCache{seed: maphash.MakeSeed(), max: size, order: list.New(), byKey: make(map[AffinityKey]*list.Element, size)}
}

// key hashes the tenant, the conversation's anchor (the "user" field, else the
// system prompt) and the first user message: these stay fixed as a
// conversation grows, while later turns are appended.
func (c *affinityCache) key(tenant string, req *ChatRequest) (AffinityKey, bool) {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	anchor := req.User
	first := ""
	for i := range req.Messages {
		m := &req.Messages[i]
		if anchor == "" && (m.Role == "system" || m.Role == "developer") {
			anchor = m.Text
		}
		if m.Role == "user" {
			first = m.Text
			break
		}
	}
	if first == "" {
		return 0, false
	}
	h.WriteString(anchor)
	h.WriteByte(0)
	h.WriteString(first)
	return AffinityKey(h.Sum64()), true
}

func (c *affinityCache) get(k AffinityKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*affinityEntry).model, true
	}
	return "", false
}

func (c *affinityCache) put(k AffinityKey, model string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		e.Value.(*affinityEntry).model = model
		c.order.MoveToFront(e)
		return
	}
	c.byKey[k] = c.order.PushFront(&affinityEntry{key: k, model: model})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*affinityEntry).key)
	}
}
