package respcache

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Memory is the in-process store: an LRU bounded by the bytes it holds, with
// per-entry expiry. Safe for concurrent use.
type Memory struct {
	mu    sync.Mutex
	max   int
	size  int
	ll    *list.List
	items map[string]*list.Element
	now   func() time.Time
}

type memItem struct {
	k       string
	v       []byte
	expires time.Time
}

// NewMemory returns a store holding at most maxBytes of values (0 means 64 MiB).
// now may be nil (time.Now).
func NewMemory(maxBytes int, now func() time.Time) *Memory {
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}, now: now}
}

func memKey(tenantID, key string) string { return tenantID + "\x00" + key }

// Get implements Store.
func (m *Memory) Get(_ context.Context, tenantID, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[memKey(tenantID, key)]
	if !ok {
		return nil, false, nil
	}
	it := el.Value.(*memItem)
	if !m.now().Before(it.expires) {
		m.remove(el)
		return nil, false, nil
	}
	m.ll.MoveToFront(el)
	return it.v, true, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, tenantID, key string, val []byte, ttl time.Duration) error {
	if len(val) > m.max {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memKey(tenantID, key)
	if el, ok := m.items[k]; ok {
		m.remove(el)
	}
	m.items[k] = m.ll.PushFront(&memItem{k: k, v: val, expires: m.now().Add(ttl)})
	m.size += len(val)
	for m.size > m.max {
		m.remove(m.ll.Back())
	}
	return nil
}

// Bytes is the size of the values held.
func (m *Memory) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}

func (m *Memory) remove(el *list.Element) {
	it := el.Value.(*memItem)
	m.ll.Remove(el)
	delete(m.items, it.k)
	m.size -= len(it.v)
}
