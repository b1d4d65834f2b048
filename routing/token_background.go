package routing

import "sync"

// Background counting: a long text the request path could not count (a
// conversation's history the first time this process sees it, a pasted
// document) is counted here, off the request path, and remembered, so that the
// next turn of the conversation reads its exact count from the cache.
const (
	// backgroundMaxBytes bounds the text waiting to be counted; beyond it new
	// texts are not queued (they stay estimated until seen again).
	backgroundMaxBytes = 4 << 20
	// backgroundMaxText is the longest text counted at all (~64k tokens, ~20 ms).
	backgroundMaxText = 256 << 10
)

type backgroundItem struct {
	o200k bool
	text  string
}

// background is a queue drained by at most one goroutine at a time, started
// when work arrives and ended when the queue is empty: nothing runs while the
// gateway is idle and nothing needs stopping.
type background struct {
	mu      sync.Mutex
	queue   []backgroundItem
	pending map[tokenCacheLongKey]bool
	bytes   int
	running bool
	idle    sync.Cond
}

// later queues s for counting unless it is queued already or the queue is full.
func (b *background) later(e *Estimator, o200k bool, s string) {
	if len(s) > backgroundMaxText {
		return
	}
	k := e.counts.longKey(o200k, s)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[k] || b.bytes+len(s) > backgroundMaxBytes {
		return
	}
	if b.pending == nil {
		b.pending = make(map[tokenCacheLongKey]bool)
	}
	b.pending[k] = true
	b.bytes += len(s)
	b.queue = append(b.queue, backgroundItem{o200k, s})
	if !b.running {
		b.running = true
		go b.drain(e)
	}
}

func (b *background) drain(e *Estimator) {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			if b.idle.L != nil {
				b.idle.Broadcast()
			}
			b.mu.Unlock()
			return
		}
		it := b.queue[0]
		b.queue[0] = backgroundItem{}
		b.queue = b.queue[1:]
		b.mu.Unlock()

		e.countExact(it.o200k, it.text)

		b.mu.Lock()
		delete(b.pending, e.counts.longKey(it.o200k, it.text))
		b.bytes -= len(it.text)
		b.mu.Unlock()
	}
}

// Flush waits until every text queued for background counting is counted.
// Tests and benchmarks use it to read a warm cache.
func (e *Estimator) Flush() {
	b := &e.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.idle.L == nil {
		b.idle.L = &b.mu
	}
	for b.running {
		b.idle.Wait()
	}
}
