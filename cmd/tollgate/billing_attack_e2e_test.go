package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/testredis"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// openAIWire is a loopback upstream that reads a chat request the way OpenAI's
// server does (exact-case member names, the last of duplicate members wins) and
// generates as much as it is allowed: max_tokens (or max_completion_tokens;
// given both, the larger, the worst any upstream could do; the model's 16,384
// when neither) for each of n choices, and reports usage = n × that.
type openAIWire struct {
	*httptest.Server
}

// wireMaxOutput is what the upstream generates per choice without a limit.
const wireMaxOutput = 16_384

func newOpenAIWire(t *testing.T) *openAIWire {
	u := &openAIWire{}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

func (u *openAIWire) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var top map[string]json.RawMessage // exact-case keys; the last duplicate wins
	if err := json.Unmarshal(raw, &top); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	num := func(k string) int64 {
		var v int64
		_ = json.Unmarshal(top[k], &v)
		return v
	}
	tokens := max(num("max_tokens"), num("max_completion_tokens"))
	if tokens <= 0 {
		tokens = wireMaxOutput
	}
	n := max(num("n"), 1)
	var model string
	_ = json.Unmarshal(top["model"], &model)
	var stream bool
	_ = json.Unmarshal(top["stream"], &stream)
	var opts map[string]json.RawMessage
	_ = json.Unmarshal(top["stream_options"], &opts)
	usage := map[string]int64{"prompt_tokens": 10, "completion_tokens": n * tokens, "total_tokens": 10 + n*tokens}
	text := strings.Repeat("tok ", int(min(tokens, 32)))
	w.Header().Set("Content-Type", "application/json")
	if !stream {
		choices := make([]any, n)
		for i := range choices {
			choices[i] = map[string]any{"index": i, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "length"}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-wire", "object": "chat.completion", "created": 1, "model": model,
			"choices": choices, "usage": usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v map[string]any) {
		v["id"], v["object"], v["created"], v["model"] = "chatcmpl-wire", "chat.completion.chunk", 1, model
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	for i := range n {
		send(map[string]any{"choices": []any{map[string]any{"index": i, "delta": map[string]any{"role": "assistant", "content": text}, "finish_reason": nil}}})
		send(map[string]any{"choices": []any{map[string]any{"index": i, "delta": map[string]any{}, "finish_reason": "length"}}})
	}
	if string(opts["include_usage"]) == "true" {
		send(map[string]any{"choices": []any{}, "usage": usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// attack is one hostile (or merely odd) request, sent times times.
type attack struct {
	name   string
	body   string
	stream bool
	header map[string]string
	times  int
	// want: "ok" (all served), "400" (refused naming param), "429" (refused by
	// the budget), or "" (any of these; the invariants must hold either way).
	want  string
	param string
}

const prompt = `"messages":[{"role":"user","content":"hello there"}]`

// billingAttacks is the battery of issue 11: every way a client could make the
// reservation and the upstream read different limits, or make the ledger merge
// or lose requests.
var billingAttacks = []attack{
	{name: "same X-Request-Id repeated", body: `{"model":"gpt-4o-mini","max_tokens":1000,` + prompt + `}`,
		header: map[string]string{"X-Request-Id": "same-id-every-time"}, times: 8, want: "ok"},
	{name: "same X-Request-Id repeated, streaming", body: `{"model":"gpt-4o-mini","max_tokens":500,"stream":true,` + prompt + `}`,
		stream: true, header: map[string]string{"X-Request-Id": "same-id-every-time"}, times: 4, want: "ok"},
	{name: "issue body: max_tokens, Max_Tokens and \\u0078", body: `{"model":"gpt-4o-mini","max_tokens":16384,"Max_Tokens":1,"\u0078":1,` + prompt + `}`,
		times: 2, want: "400", param: "Max_Tokens"},
	{name: "duplicate max_tokens, small first", body: `{"model":"gpt-4o-mini","max_tokens":1,` + prompt + `,"max_tokens":16384}`,
		times: 2, want: "400", param: "max_tokens"},
	{name: "duplicate through an escaped key", body: `{"model":"gpt-4o-mini","max_tokens":1,"max\u005ftokens":16384,` + prompt + `}`,
		times: 2, want: "400", param: "max_tokens"},
	{name: "escaped key alone is read as max_tokens", body: `{"model":"gpt-4o-mini","max\u005ftokens":4000,` + prompt + `}`,
		times: 2, want: "ok"},
	{name: "case-variant model", body: `{"MODEL":"gpt-4o","model":"gpt-4o-mini",` + prompt + `}`, times: 1, want: "400", param: "MODEL"},
	{name: "case-variant n", body: `{"model":"gpt-4o-mini","max_tokens":100,"N":8,` + prompt + `}`, times: 1, want: "400", param: "N"},
	{name: "duplicate in a message", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a","content":"b"}]}`,
		times: 1, want: "400", param: "messages[0].content"},
	{name: "n:8 within the budget", body: `{"model":"gpt-4o-mini","max_tokens":1000,"n":8,` + prompt + `}`, times: 2, want: "ok"},
	{name: "n:8 without max_tokens", body: `{"model":"gpt-4o-mini","n":8,` + prompt + `}`, times: 2, want: "429"},
	{name: "n:129", body: `{"model":"gpt-4o-mini","max_tokens":10,"n":129,` + prompt + `}`, times: 1, want: "400", param: "n"},
	{name: "max_tokens 2147483648", body: `{"model":"gpt-4o-mini","max_tokens":2147483648,` + prompt + `}`, times: 1, want: "400", param: "max_tokens"},
	{name: "max_tokens 2147483648 on the sim", body: `{"model":"sim-small","max_tokens":2147483648,` + prompt + `}`, times: 1, want: "400", param: "max_tokens"},
	{name: "max_tokens 999999", body: `{"model":"gpt-4o-mini","max_tokens":999999,` + prompt + `}`, times: 1, want: "400", param: "max_tokens"},
	{name: "max_tokens 999999 on the sim", body: `{"model":"sim-small","max_tokens":999999,` + prompt + `}`, times: 1, want: "400", param: "max_tokens"},
	{name: "max_completion_tokens 999999", body: `{"model":"gpt-4o-mini","max_completion_tokens":999999,` + prompt + `}`,
		times: 1, want: "400", param: "max_completion_tokens"},
	{name: "auto above every candidate's limit", body: `{"model":"auto","max_tokens":20000,` + prompt + `}`, times: 1, want: "400", param: "max_tokens"},
	{name: "both limits: the smaller wins upstream too", body: `{"model":"gpt-4o-mini","max_tokens":16000,"max_completion_tokens":100,` + prompt + `}`,
		times: 2, want: "ok"},
	{name: "streaming n:4", body: `{"model":"gpt-4o-mini","max_tokens":2000,"n":4,"stream":true,` + prompt + `}`, stream: true, times: 1, want: "ok"},
	{name: "streaming duplicate key", body: `{"model":"gpt-4o-mini","stream":true,"max_tokens":1,"max_tokens":16384,` + prompt + `}`,
		stream: true, times: 1, want: "400", param: "max_tokens"},
	{name: "streaming case-variant stream_options", body: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"Include_Usage":false},` + prompt + `}`,
		stream: true, times: 1, want: "400", param: "stream_options.Include_Usage"},
	{name: "streaming both limits", body: `{"model":"gpt-4o-mini","stream":true,"max_completion_tokens":16000,"max_tokens":50,` + prompt + `}`,
		stream: true, times: 1, want: "ok"},
	{name: "trailing second object", body: `{"model":"gpt-4o-mini","max_tokens":1,` + prompt + `}{"max_tokens":16384}`, times: 1, want: "400"},
	{name: "invalid UTF-8 key", body: "{\"model\":\"gpt-4o-mini\",\"max_tokens\xff\":16384," + prompt + "}", times: 1, want: "400"},
	// Spend the rest of the budget: each reserves 2 × 16,384 output tokens.
	{name: "drain", body: `{"model":"gpt-4o-mini","max_tokens":16384,"n":2,` + prompt + `}`, times: 6},
}

// attackTally counts what the battery did.
type attackTally struct {
	tried, refused4xx, served int
	served200IDs              []string
}

// runBillingAttacks fires the battery at a stack whose tenant has a $0.05 hard
// budget and checks, after every attack: the ledger total stays within the
// budget, every served request's server id is in the ledger exactly once, and
// the process still answers /healthz.
func runBillingAttacks(t *testing.T, s *stack, tn tenants.Tenant, key string) attackTally {
	t.Helper()
	var tally attackTally
	client := &http.Client{Timeout: 30 * time.Second}
	for _, a := range billingAttacks {
		statuses := map[int]int{}
		for range a.times {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.baseURL+"/v1/chat/completions", strings.NewReader(a.body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			for k, v := range a.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			require.NoError(t, err, "%s: the gateway must answer", a.name)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err, a.name)
			tally.tried++
			statuses[resp.StatusCode]++
			switch {
			case resp.StatusCode == http.StatusOK:
				tally.served++
				id := resp.Header.Get("x-tollgate-request-id")
				require.NotEmpty(t, id, a.name)
				require.NotContains(t, tally.served200IDs, id, "%s: every request gets its own server id", a.name)
				tally.served200IDs = append(tally.served200IDs, id)
				if cid := a.header["X-Request-Id"]; cid != "" {
					require.Equal(t, cid, resp.Header.Get("x-request-id"), "%s: the client's id is echoed", a.name)
				}
				if a.stream {
					require.Contains(t, string(body), "data: [DONE]", a.name)
				}
			case resp.StatusCode >= 400 && resp.StatusCode < 500:
				tally.refused4xx++
				var e struct {
					Error struct {
						Message string  `json:"message"`
						Type    string  `json:"type"`
						Param   *string `json:"param"`
					} `json:"error"`
				}
				require.NoError(t, json.Unmarshal(body, &e), "%s: %s", a.name, body)
				require.NotEmpty(t, e.Error.Message, a.name)
				if resp.StatusCode == http.StatusTooManyRequests {
					require.Equal(t, "insufficient_quota", e.Error.Type, a.name)
					require.Equal(t, "false", resp.Header.Get("x-should-retry"), a.name)
				}
				if a.param != "" {
					require.NotNil(t, e.Error.Param, "%s: %s", a.name, body)
					require.Equal(t, a.param, *e.Error.Param, a.name)
				}
			default:
				t.Fatalf("%s: status %d: %s", a.name, resp.StatusCode, body)
			}
		}
		switch a.want {
		case "ok":
			require.Equal(t, map[int]int{http.StatusOK: a.times}, statuses, a.name)
		case "400":
			require.Equal(t, map[int]int{http.StatusBadRequest: a.times}, statuses, a.name)
		case "429":
			require.Equal(t, map[int]int{http.StatusTooManyRequests: a.times}, statuses, a.name)
		}

		// After each attack: the process is alive, and the ledger holds every
		// served request exactly once and stays within the budget.
		resp, err := client.Get(s.baseURL + "/healthz")
		require.NoError(t, err, "%s: the process is alive", a.name)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, a.name)
		evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) >= len(tally.served200IDs) })
		byID := map[string]int{}
		var total billing.NanoUSD
		for _, e := range evs {
			byID[e.RequestID]++
			total += e.Cost
		}
		require.Len(t, evs, len(tally.served200IDs), "%s: one ledger row per served request", a.name)
		for _, id := range tally.served200IDs {
			require.Equal(t, 1, byID[id], "%s: request %s is billed exactly once", a.name, id)
		}
		require.LessOrEqual(t, total, fiveCents, "%s: ledger $%s over the $0.05 hard budget", a.name, total.USDString())
		t.Logf("%-48s statuses=%v ledger=$%s", a.name, statuses, total.USDString())
	}
	return tally
}

func startAttackStack(t *testing.T, env map[string]string) (*stack, tenants.Tenant, string) {
	t.Helper()
	up := newOpenAIWire(t)
	env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"], env["TOLLGATE_SIM"] = up.URL+"/v1", "openai-test-key", "1"
	s := startStack(t, env)
	tn, _, key := s.tenantWithKey(t, "attacked", apikeys.CreateKeyInput{})
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: fiveCents, Hard: true})
	return s, tn, key
}

// TestBillingAttacks runs the battery on the multi-tenant stack: Postgres and
// the Redis Cluster meter.
func TestBillingAttacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) map[string]string
	}{
		{"postgres+redis-cluster", func(t *testing.T) map[string]string { return clusterEnv(t, testdb.Postgres(t)) }},
		{"sqlite+in-process", func(*testing.T) map[string]string { return map[string]string{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, tn, key := startAttackStack(t, tc.env(t))
			tally := runBillingAttacks(t, s, tn, key)
			s.stop()
			tot := ledgerTotal(t, s, tn)
			t.Logf("%s: tried=%d refused_4xx=%d billed=%d ledger_requests=%d ledger_total=$%s",
				tc.name, tally.tried, tally.refused4xx, tally.served, tot.Requests, tot.Cost.USDString())
			require.EqualValues(t, tally.served, tot.Requests)
			require.LessOrEqual(t, tot.Cost, fiveCents)
		})
	}
}

// TestRepeatedClientRequestIDIsBilledEachTime: N chat and N embeddings requests
// with one X-Request-Id get N distinct server ids and N ledger rows (each keeping
// the client's id), and the budget counter rebuilt from the ledger equals the
// live Redis Cluster counter. With the client's id as the key, the ledger kept
// one row and a rebuild reset the hard budget.
func TestRepeatedClientRequestIDIsBilledEachTime(t *testing.T) {
	t.Parallel()
	s := startStack(t, clusterEnv(t, testdb.Postgres(t)))
	tn, _, key := s.tenantWithKey(t, "repeat-id", apikeys.CreateKeyInput{})
	b := s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: fiveCents, Hard: true})

	// Given 8 chat completions and 8 embeddings, all with X-Request-Id "retry-1"
	const n = 8
	ids := map[string]bool{}
	send := func(path, body string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.baseURL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Request-Id", "retry-1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		require.Equal(t, "retry-1", resp.Header.Get("x-request-id"))
		id := resp.Header.Get("x-tollgate-request-id")
		require.NotEqual(t, "retry-1", id)
		require.False(t, ids[id], "server ids are distinct")
		ids[id] = true
	}
	for range n {
		send("/v1/chat/completions", `{"model":"sim-small","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`)
		send("/v1/embeddings", `{"model":"sim-embed","input":"hello there"}`)
	}

	// Then the ledger has 2N rows, each with the client's id beside the server's
	s.stop() // drains the ledger spool and returns budget leases
	evs, err := ledger.Recent(t.Context(), s.handle(t, tn), time.Time{}, 500)
	require.NoError(t, err)
	require.Len(t, evs, 2*n)
	for _, e := range evs {
		require.True(t, ids[e.RequestID])
		require.Equal(t, "retry-1", e.ClientRequestID)
	}

	// And the counter rebuilt from the ledger equals the live counter.
	rebuilt, err := ledger.CounterTotals(t.Context(), s.handle(t, tn), []budget.Budget{b}, time.Now())
	require.NoError(t, err)
	rm := meter.NewRedisMeter(s.op.logger, testredis.Cluster(t), time.Now, meter.RedisConfig{})
	live, err := rm.Usage(t.Context(), string(tn.ID), []meter.Limit{b.MeterLimit()})
	require.NoError(t, err)
	require.Equal(t, live[0].Spent, rebuilt[0].Spent, "live=%s rebuilt=%s", live[0].Spent.USDString(), rebuilt[0].Spent.USDString())
	require.Equal(t, ledgerTotal(t, s, tn).Cost, rebuilt[0].Spent)
}

// TestRepeatedClientRequestIDSurvivesRestart: self-host rebuilds its in-process
// counters from the ledger on start; requests that shared an X-Request-Id still
// count each, so the hard budget holds after a restart.
func TestRepeatedClientRequestIDSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"TOLLGATE_SIM": "1", "TOLLGATE_DATABASE_URL": "sqlite://" + dir + "/tollgate.db",
		"TOLLGATE_SPOOL_DIR": dir + "/spool"}
	first := startStack(t, env)
	tn, _, key := first.tenantWithKey(t, "repeat-restart", apikeys.CreateKeyInput{})
	// sim-small, 9 prompt + 100 output tokens: 61,350 nano-USD a request; 8 of them 490,800.
	first.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 500_000, Hard: true})
	call := func(s *stack) int {
		req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/chat/completions",
			bytes.NewReader([]byte(`{"model":"sim-small","max_tokens":100,"messages":[{"role":"user","content":"hello there"}]}`)))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Request-Id", "same")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 8 {
		require.Equal(t, http.StatusOK, call(first))
	}
	first.stop()

	// A fresh process on the same data: 490,800 spent, a ninth request does not fit.
	second := startStack(t, env)
	require.Equal(t, http.StatusTooManyRequests, call(second))
}

// TestEmbeddingsBase64WithOpenAIClient: the official SDK asks for base64 by
// default and decodes it; the vector it gets is the sim's float vector.
func TestEmbeddingsBase64WithOpenAIClient(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	_, _, key := s.tenantWithKey(t, "embed", apikeys.CreateKeyInput{})
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))

	var sent sync.Map
	viaSDK, err := client.Embeddings.New(t.Context(), openai.EmbeddingNewParams{
		Model: "sim-embed", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello there")},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
	}, option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		sent.Store("body", string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(r)
	}))
	require.NoError(t, err)
	body, _ := sent.Load("body")
	require.Contains(t, body, `"encoding_format":"base64"`)
	require.Len(t, viaSDK.Data, 1)
	require.True(t, strings.HasPrefix(viaSDK.Data[0].JSON.Embedding.Raw(), `"`), "a base64 string on the wire, as OpenAI sends")

	req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/embeddings", strings.NewReader(`{"model":"sim-embed","input":"hello there","encoding_format":"float"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var floats struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&floats))
	require.Len(t, floats.Data, 1)
	require.Len(t, viaSDK.Data[0].Embedding, 8)
	require.Equal(t, floats.Data[0].Embedding, viaSDK.Data[0].Embedding, "the SDK decodes the base64 vector to the float one")

	// An unknown encoding_format is a 400 naming it.
	req, _ = http.NewRequest(http.MethodPost, s.baseURL+"/v1/embeddings", strings.NewReader(`{"model":"sim-embed","input":"x","encoding_format":"int8"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	bad, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(bad.Body)
	bad.Body.Close()
	require.Equal(t, http.StatusBadRequest, bad.StatusCode)
	require.Contains(t, string(raw), `"param":"encoding_format"`)
}
