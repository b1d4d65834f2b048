package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// heldUpstream is an OpenAI-compatible upstream on a raw listener that answers
// every streamed request with its headers and one content chunk, then holds the
// stream open until release is closed: a model in the middle of generating. It
// costs one small goroutine per connection, so the process's memory measures
// the gateway's share of a stream.
type heldUpstream struct {
	ln      net.Listener
	mu      sync.Mutex
	release chan struct{}
}

func (u *heldUpstream) held() chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.release
}

// letGo ends every held stream and holds the next ones again.
func (u *heldUpstream) letGo() {
	u.mu.Lock()
	defer u.mu.Unlock()
	close(u.release)
	u.release = make(chan struct{})
}

func newHeldUpstream(t testing.TB) *heldUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := &heldUpstream{ln: ln, release: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	return u
}

func (u *heldUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 512)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		const chunk = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}` + "\n\n"
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(chunk), chunk)
		<-u.held()
		const tail = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}` + "\n\ndata: [DONE]\n\n"
		fmt.Fprintf(c, "%x\r\n%s\r\n0\r\n\r\n", len(tail), tail)
		if req.Close {
			return
		}
	}
}

// TestStreamMemoryPerInFlight holds streams open through the real serve stack
// (net/http server, middleware, key auth, reservation, the upstream call over
// loopback, the stream pump) and reports what each in-flight stream holds: live
// heap and goroutine stacks, the gateway's process minus the same number of
// streams held directly against the upstream. Clients are raw connections that
// read the headers and first event and then wait, so they hold no goroutine.
//
//	TOLLGATE_STREAM_MEMORY=1 go test -run StreamMemoryPerInFlight -v ./cmd/tollgate/
func TestStreamMemoryPerInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("holds hundreds of streams")
	}
	const n = 400
	if path := os.Getenv("TOLLGATE_STREAM_HEAPPROFILE"); path != "" {
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = 512 << 10 }()
		defer func() {
			f, err := os.Create(path)
			require.NoError(t, err)
			defer f.Close()
			require.NoError(t, pprof.Lookup("heap").WriteTo(f, 0))
		}()
	}
	up := newHeldUpstream(t)
	defer up.ln.Close()
	dir := t.TempDir()
	handler, bearer := servedGateway(t, map[string]string{
		"TOLLGATE_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "tollgate.db"),
		"TOLLGATE_LOG_LEVEL":      "warn",
		"TOLLGATE_ADMIN_PASSWORD": "bench-admin-password",
		"TOLLGATE_JWT_SECRET":     "bench-jwt-secret-that-is-long-enough-00000000",
		"TOLLGATE_SPOOL_DIR":      filepath.Join(dir, "spool"),
		"OPENAI_BASE_URL":         "http://" + up.ln.Addr().String() + "/v1",
		"OPENAI_API_KEY":          "bench",
	}, "")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: handler}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	// A prompt of the production sample's average size (3,387 tokens, about
	// 13 KB): a stream that kept its prompt would hold it for its whole life,
	// in three copies (the body, the parsed messages, the upstream's body).
	prompt := strings.Repeat("Summarise the quarterly report. ", 420)
	body := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"` + prompt + `"}],"max_tokens":1}`
	open := func(addr, auth string) net.Conn {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", auth, len(body), body)
		// Wait for the first event: the stream is then in flight end to end.
		buf := make([]byte, 0, 2048)
		for !strings.Contains(string(buf), "chat.completion.chunk") {
			p := make([]byte, 1024)
			k, err := c.Read(p)
			require.NoError(t, err, string(buf))
			buf = append(buf, p[:k]...)
		}
		require.True(t, strings.HasPrefix(string(buf), "HTTP/1.1 200"), string(buf))
		return c
	}
	measure := func() (heap, stack uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, ms.StackInuse
	}
	hold := func(addr, auth string) (heap, stack uint64, conns []net.Conn) {
		h0, s0 := measure()
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c := open(addr, auth)
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}()
		}
		wg.Wait()
		h1, s1 := measure()
		return h1 - h0, s1 - s0, conns
	}
	// Warm the caches (key, budget, policy, lease) with a few streams through,
	// and load the tokenizer the first request would load in the background.
	routing.NewEstimator(routing.EstimatorConfig{}).Warm()
	auth := strings.TrimPrefix(bearer, "Bearer ")
	for range 4 {
		c := open(ln.Addr().String(), auth)
		up.letGo()
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}

	dh, ds, direct := hold(up.ln.Addr().String(), auth)
	if path := os.Getenv("TOLLGATE_STREAM_HEAPPROFILE"); path != "" {
		runtime.GC()
		f, err := os.Create(path + ".before")
		require.NoError(t, err)
		require.NoError(t, pprof.Lookup("heap").WriteTo(f, 0))
		f.Close()
	}
	gh, gs, through := hold(ln.Addr().String(), auth)
	if path := os.Getenv("TOLLGATE_STREAM_HEAPPROFILE"); path != "" {
		f, err := os.Create(path + ".inflight")
		require.NoError(t, err)
		require.NoError(t, pprof.Lookup("heap").WriteTo(f, 0))
		f.Close()
		f, err = os.Create(path + ".goroutines")
		require.NoError(t, err)
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(f, 1))
		f.Close()
	}
	heap, stack := (int64(gh)-int64(dh))/n, (int64(gs)-int64(ds))/n
	ss := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(ss)
	t.Logf("new goroutines start with %d B of stack", ss[0].Value.Uint64())
	t.Logf("%d streams held directly: heap %d B, stacks %d B; through the gateway: heap %d B, stacks %d B", n, dh, ds, gh, gs)
	t.Logf("per in-flight stream through the gateway: live heap %.1f KB, goroutine stacks %.1f KB (RSS at GOGC=100 ≈ 2×heap + stacks ≈ %.1f KB)",
		float64(heap)/1024, float64(stack)/1024, float64(2*heap+stack)/1024)
	// A streamed request's goroutine keeps the stack it grew for the whole
	// stream. Parsing, opening and finishing run off it (api.offStack) and
	// the relay fits in 8 KB: with the server's background reader (2 KB) and
	// the upstream connection's two loops (4 KB each) that is 18 KB a stream.
	// Anything deep on that goroutine (a decoder, a header write) doubles it
	// to 16 KB, 26 KB a stream.
	require.Less(t, stack, int64(22<<10), "goroutine stacks per in-flight stream: the request goroutine grew past 8 KB")
	// About 30 KB, most of it net/http's (server and transport buffers, the
	// two requests and their headers, connections, goroutines); 74 KB when a
	// stream kept its prompt.
	require.Less(t, heap, int64(36<<10), "live heap per in-flight stream")
	up.letGo()
	for _, c := range append(direct, through...) {
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}
}
