package routing

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chatCorpus is real text to build chat traffic from: the repository's own
// prose (README, docs) cut into paragraphs, and its Go source cut into blocks.
type chatCorpus struct {
	prose []string
	code  []string
	asks  []string
}

func loadChatCorpus(tb testing.TB) chatCorpus {
	tb.Helper()
	var c chatCorpus
	docs, err := filepath.Glob("../docs/*.md")
	require.NoError(tb, err)
	for _, p := range append(docs, "../README.md") {
		b, err := os.ReadFile(p)
		require.NoError(tb, err)
		for para := range strings.SplitSeq(string(b), "\n\n") {
			if para = strings.TrimSpace(para); len(para) > 120 {
				c.prose = append(c.prose, para)
			}
		}
	}
	src, err := filepath.Glob("../billing/*/*.go")
	require.NoError(tb, err)
	for _, p := range src {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		require.NoError(tb, err)
		for block := range strings.SplitSeq(string(b), "\n}\n") {
			if block = strings.TrimSpace(block); len(block) > 200 && len(block) < 3000 {
				c.code = append(c.code, block+"\n}")
			}
		}
	}
	c.asks = []string{
		"lol thanks!", "ok", "Can you say that again in simpler words?", "why?",
		"Write a migration plan for moving the ledger to a new schema, step by step.",
		"How many requests did we serve yesterday, and what did they cost?",
		"Great, that worked. Now can you make it handle the error case too?",
		"I'm not sure I follow. What happens when Redis is down?",
		"Summarize this for my manager in three bullet points.",
		"Translate the last answer to French: « Bonjour, je voudrais réserver une table pour deux personnes ce soir. »",
		"東京の天気はどうですか？明日の予定を教えてください。",
		"Here is the error I get: panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x4a3f2c]",
		"Can you review this function and tell me what's wrong with it?",
		"What's the difference between a hard and a soft budget? Give me an example with numbers: $250/month, 80% alert.",
		"Thanks, you're the best 😊 talk tomorrow",
	}
	require.NotEmpty(tb, c.prose)
	require.NotEmpty(tb, c.code)
	return c
}

// chatTurn is one request of the traffic: its messages and its conversation.
type chatTurn struct {
	conv int
	req  *ChatRequest
}

// realisticTraffic builds conversations shaped like the design's production
// sample (a companion/assistant app: long system prompts shared by personas,
// growing histories, ~3.4k input tokens a request on average), interleaved
// as concurrent users send them. Deterministic for a seed.
func realisticTraffic(tb testing.TB, c chatCorpus, convs, maxTurns int, seed uint64) []chatTurn {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	prose := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = pick(c.prose)
		}
		return strings.Join(parts, "\n\n")
	}
	personas := make([]string, 5)
	for i := range personas {
		personas[i] = fmt.Sprintf("You are persona %d, a patient assistant for the Tollgate team. Follow these notes:\n\n%s", i, prose(4+rng.IntN(8)))
	}
	type conv struct {
		msgs  []map[string]any
		turns int
	}
	cs := make([]*conv, convs)
	for i := range cs {
		cs[i] = &conv{msgs: []map[string]any{{"role": "system", "content": personas[rng.IntN(len(personas))]}}, turns: 1 + rng.IntN(maxTurns)}
	}
	var out []chatTurn
	for round := 0; ; round++ {
		sent := false
		for i, cv := range cs {
			if round >= cv.turns {
				continue
			}
			sent = true
			var ask string
			switch r := rng.IntN(10); {
			case r < 6:
				ask = pick(c.asks)
			case r < 8:
				ask = pick(c.asks) + "\n\n```go\n" + pick(c.code) + "\n```"
			default:
				ask = "About this part of the docs:\n\n" + prose(1+rng.IntN(3)) + "\n\n" + pick(c.asks)
			}
			cv.msgs = append(cv.msgs, map[string]any{"role": "user", "content": ask})
			body, err := json.Marshal(map[string]any{"model": "auto", "messages": cv.msgs})
			require.NoError(tb, err)
			req, err := ParseChatRequest(body)
			require.NoError(tb, err)
			out = append(out, chatTurn{conv: i, req: req})
			reply := prose(1 + rng.IntN(2))
			if rng.IntN(4) == 0 {
				reply += "\n\n```go\n" + pick(c.code) + "\n```"
			}
			cv.msgs = append(cv.msgs, map[string]any{"role": "assistant", "content": reply})
		}
		if !sent {
			return out
		}
	}
}

// legacyPromptTokens is the estimate the gateway routed and reserved with before
// counts were split: exact below 256 bytes of prompt text, else every text at
// its length bound.
func legacyPromptTokens(e *Estimator, model string, req *ChatRequest) int {
	size := len(req.Tools)
	for i := range req.Messages {
		size += len(req.Messages[i].Text) + len(req.Messages[i].Name)
	}
	count := upperBoundTokens
	if size <= 256 {
		count = func(s string) int { return e.CountText(model, s) }
	}
	n := tokensReplyPrime
	for i := range req.Messages {
		n += tokensPerMessage + 1 + count(req.Messages[i].Text)
	}
	return n
}

// trafficRatios runs the traffic through a fresh gateway-side Estimator (the
// background counter drained between requests, as turns arrive seconds apart)
// and compares each reading with the exact count.
type trafficRatios struct {
	requests                                 int
	truth, legacy, estimate, bound, anyBound int
	minEst, maxEst, minBound, minAnyBound    float64
	perRequest                               []float64
	meanTruth                                float64
}

func measureTraffic(tb testing.TB, turns []chatTurn) trafficRatios {
	tb.Helper()
	gw := NewEstimator(EstimatorConfig{})
	truthEst := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	r := trafficRatios{minEst: 9, maxEst: 0, minBound: 9, minAnyBound: 9}
	for _, t := range turns {
		truth := truthEst.ExactPromptTokens("gpt-4o", t.req)
		legacy := legacyPromptTokens(truthEst, "gpt-4o", t.req)
		c := gw.Count("gpt-4o", t.req)
		gw.Flush()
		r.requests++
		r.truth += truth
		r.legacy += legacy
		r.estimate += c.Tokens
		r.bound += c.Bound
		r.anyBound += c.AnyBound
		est := float64(c.Tokens) / float64(truth)
		r.perRequest = append(r.perRequest, est)
		r.minEst, r.maxEst = min(r.minEst, est), max(r.maxEst, est)
		r.minBound = min(r.minBound, float64(c.Bound)/float64(truth))
		r.minAnyBound = min(r.minAnyBound, float64(c.AnyBound)/float64(truth))
	}
	r.meanTruth = float64(r.truth) / float64(r.requests)
	slices.Sort(r.perRequest)
	return r
}

func (r trafficRatios) String() string {
	p := func(q float64) float64 { return r.perRequest[int(q*float64(len(r.perRequest)-1))] }
	return fmt.Sprintf("%d requests, %.0f true prompt tokens a request: before (routing and reservation) %.3fx; "+
		"after: routing estimate %.3fx (per request p1 %.3f, p50 %.3f, p99 %.3f, min %.3f, max %.3f), "+
		"reservation bound %.3fx (min %.3f), any-model bound %.3fx (min %.3f)",
		r.requests, r.meanTruth, float64(r.legacy)/float64(r.truth),
		float64(r.estimate)/float64(r.truth), p(0.01), p(0.5), p(0.99), r.minEst, r.maxEst,
		float64(r.bound)/float64(r.truth), r.minBound, float64(r.anyBound)/float64(r.truth), r.minAnyBound)
}

// TestPromptCountOnRealisticTraffic reports the estimate-to-true ratio of the
// gateway's prompt counts on chat traffic with long system prompts and
// histories, and holds the two contracts: routing reads a count close to the
// truth, and the reservation's bound is never below it.
func TestPromptCountOnRealisticTraffic(t *testing.T) {
	t.Parallel()
	turns := realisticTraffic(t, loadChatCorpus(t), 60, 10, 1)
	r := measureTraffic(t, turns)
	t.Log(r)
	require.Greater(t, r.meanTruth, 1500.0, "the traffic has long prompts")
	require.Greater(t, float64(r.legacy)/float64(r.truth), 1.3, "the old estimate overcounted such traffic")
	require.InDelta(t, 1.0, float64(r.estimate)/float64(r.truth), 0.03, "routing estimate over all requests")
	require.GreaterOrEqual(t, r.minEst, 0.9, "no request's routing estimate is far below the truth")
	require.LessOrEqual(t, r.maxEst, 1.15, "no request's routing estimate is far above the truth")
	require.GreaterOrEqual(t, r.minBound, 1.0, "the reservation bound never undercounts")
	require.GreaterOrEqual(t, r.minAnyBound, 1.0, "the any-model bound never undercounts")
}

// BenchmarkPromptCountRealistic measures the gateway's counting cost per
// request on the same traffic, each request new as in production: ns/op is
// all the CPU (the request path plus the background count of the text it
// brought), path-ns/op the request path alone. It reports the ratios too.
func BenchmarkPromptCountRealistic(b *testing.B) {
	turns := realisticTraffic(b, loadChatCorpus(b), 60, 10, 1)
	r := measureTraffic(b, turns)
	b.ReportMetric(float64(r.legacy)/float64(r.truth), "before-ratio")
	b.ReportMetric(float64(r.estimate)/float64(r.truth), "estimate-ratio")
	b.ReportMetric(float64(r.bound)/float64(r.truth), "bound-ratio")
	b.Log(r)
	e := NewEstimator(EstimatorConfig{})
	e.Warm()
	var path time.Duration
	i := 0
	for b.Loop() {
		if i > 0 && i%len(turns) == 0 {
			b.StopTimer()
			e = NewEstimator(EstimatorConfig{}) // a cold cache: every request is new again
			b.StartTimer()
		}
		start := time.Now()
		e.Count("gpt-4o", turns[i%len(turns)].req)
		path += time.Since(start)
		e.Flush()
		i++
	}
	b.ReportMetric(float64(path.Nanoseconds())/float64(i), "path-ns/op")
}
