// Command upstream is a minimal, fast OpenAI-compatible server for load runs: it
// answers /v1/chat/completions with a fixed completion (JSON, or SSE with a usage
// chunk when streaming), so a run can compare calling it directly with calling it
// through Tollgate. With -stream-for, a streamed answer is spread over that long
// (a chunk every -stream-for/16), like a model generating, so a run holds many
// streams in flight. It listens on 127.0.0.1 only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"
)

var (
	jsonBody = []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)
	sseBody  = []byte("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1,\"total_tokens\":13}}\n\n" +
		"data: [DONE]\n\n")
	contentChunk = []byte("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" ok\"},\"finish_reason\":null}]}\n\n")
)

// streamChunks is how many content chunks a slow stream sends before the fixed tail.
const streamChunks = 16

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address (loopback only)")
	streamFor := flag.Duration("stream-for", 0, "spread each streamed answer over this long (0: answer at once)")
	flag.Parse()
	http.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		if bytes.Contains(buf.Bytes(), []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			if *streamFor > 0 {
				slowStream(w, r, *streamFor)
			}
			_, _ = w.Write(sseBody)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jsonBody)
	})
	fmt.Println("upstream listening on", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// slowStream writes streamChunks content chunks spaced evenly over d, flushing
// each, and returns early when the client goes away.
func slowStream(w http.ResponseWriter, r *http.Request, d time.Duration) {
	f, _ := w.(http.Flusher)
	t := time.NewTicker(d / streamChunks)
	defer t.Stop()
	for range streamChunks {
		_, _ = w.Write(contentChunk)
		if f != nil {
			f.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}
