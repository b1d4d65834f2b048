package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/routing/providertest"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// fakeOpenAI is an upstream speaking OpenAI's chat completions wire format (JSON and
// SSE, usage in the last chunk when asked, tool calls), with per-model failures.
type fakeOpenAI struct {
	*httptest.Server
	mu        sync.Mutex
	failModel map[string]int // model → status to answer with
	calls     map[string]int
	cancelled chan struct{}
	hangOnce  sync.Once
}

const fakeBadRequest = `{"error":{"message":"Invalid schema for function 'get_weather': 'object' is not valid under any of the given schemas.","type":"invalid_request_error","param":"tools[0].function.parameters","code":"invalid_function_parameters"}}`

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{failModel: map[string]int{}, calls: map[string]int{}, cancelled: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOpenAI) count(model string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[model]
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model         string            `json:"model"`
		Stream        bool              `json:"stream"`
		MaxTokens     int               `json:"max_tokens"`
		Tools         []json.RawMessage `json:"tools"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &req)
	f.mu.Lock()
	f.calls[req.Model]++
	status := f.failModel[req.Model]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":{"message":"upstream overloaded","type":"server_error","param":null,"code":null}}`)
		return
	}
	last := ""
	if len(req.Messages) > 0 {
		last = req.Messages[len(req.Messages)-1].Content
	}
	if strings.Contains(string(body), "INVALID_SCHEMA") {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, fakeBadRequest)
		return
	}
	completion := req.MaxTokens
	if completion == 0 {
		completion = 8
	}
	usage := map[string]any{"prompt_tokens": 11 + len(last), "completion_tokens": completion, "total_tokens": 11 + len(last) + completion}
	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": "echo: " + last}
		finish := "stop"
		if len(req.Tools) > 0 {
			msg = map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}}
			finish = "tool_calls"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usage})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	for i := 0; i < completion; i++ {
		chunk(map[string]any{"content": fmt.Sprintf(" tok%d", i)}, nil)
		if strings.Contains(last, "HANG") && i == 1 {
			<-r.Context().Done()
			f.hangOnce.Do(func() { close(f.cancelled) })
			return
		}
	}
	chunk(map[string]any{}, "length")
	if req.StreamOptions.IncludeUsage {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": req.Model,
			"choices": []any{}, "usage": usage})
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

type e2eBundle struct {
	stack     *stack
	upstream  *fakeOpenAI
	anthropic *providertest.Upstream
	tenant    tenants.Tenant
	client    openai.Client
}

func setupGateway(t *testing.T) *e2eBundle {
	t.Helper()
	up := newFakeOpenAI(t)
	anth := providertest.NewAnthropicUpstream(t, "anthropic-test-key")
	s := startStack(t, map[string]string{
		"OPENAI_BASE_URL": up.URL + "/v1", "OPENAI_API_KEY": "openai-test-key",
		"ANTHROPIC_BASE_URL": anth.URL, "ANTHROPIC_API_KEY": "anthropic-test-key",
	})
	tn, _, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{})
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	return &e2eBundle{stack: s, upstream: up, anthropic: anth, tenant: tn, client: client}
}

func userMsg(s string) []openai.ChatCompletionMessageParamUnion {
	return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(s)}
}

func TestGatewayWithOpenAIClient(t *testing.T) {
	t.Parallel()
	b := setupGateway(t)
	ctx := t.Context()

	t.Run("plain", func(t *testing.T) {
		var raw *http.Response
		resp, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("hello"), MaxTokens: openai.Int(12)}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, "echo: hello", resp.Choices[0].Message.Content)
		require.EqualValues(t, 12, resp.Usage.CompletionTokens)
		require.Equal(t, "gpt-4o", raw.Header.Get("x-tollgate-model"))
		require.True(t, strings.HasPrefix(raw.Header.Get("x-tollgate-route-reason"), "explicit"))
		require.NotEmpty(t, raw.Header.Get("x-tollgate-request-id"))
		// The cost headers: integer nano-USD, and the same amount in dollars.
		nano, err := strconv.ParseInt(raw.Header.Get("x-tollgate-cost-nano"), 10, 64)
		require.NoError(t, err)
		require.Positive(t, nano)
		require.Equal(t, billing.NanoUSD(nano).USDString(), raw.Header.Get("x-tollgate-cost-usd"))
	})

	t.Run("auto picks economy for a casual prompt", func(t *testing.T) {
		var raw *http.Response
		_, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "auto", Messages: userMsg("hi!"), MaxTokens: openai.Int(5)}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, "gpt-4o-mini", raw.Header.Get("x-tollgate-model"))
		require.Contains(t, raw.Header.Get("x-tollgate-route-reason"), "auto_economy")
	})

	t.Run("streaming with usage in the last chunk", func(t *testing.T) {
		stream := b.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("stream please"), MaxTokens: openai.Int(4),
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
		var text strings.Builder
		var last openai.ChatCompletionChunk
		n := 0
		for stream.Next() {
			last = stream.Current()
			n++
			for _, c := range last.Choices {
				text.WriteString(c.Delta.Content)
			}
		}
		require.NoError(t, stream.Err())
		require.Equal(t, " tok0 tok1 tok2 tok3", text.String())
		require.Empty(t, last.Choices, "the last chunk carries only usage")
		require.EqualValues(t, 4, last.Usage.CompletionTokens)
		require.Greater(t, n, 4)
	})

	t.Run("streaming without include_usage hides the usage chunk", func(t *testing.T) {
		stream := b.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("no usage"), MaxTokens: openai.Int(2)})
		for stream.Next() {
			require.Zero(t, stream.Current().Usage.TotalTokens)
		}
		require.NoError(t, stream.Err())
	})

	t.Run("tool calls pass through", func(t *testing.T) {
		resp, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("weather in Paris?"), MaxTokens: openai.Int(20),
			Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
				Name: "get_weather", Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}})}})
		require.NoError(t, err)
		require.Equal(t, "tool_calls", resp.Choices[0].FinishReason)
		require.Len(t, resp.Choices[0].Message.ToolCalls, 1)
		require.Equal(t, "get_weather", resp.Choices[0].Message.ToolCalls[0].Function.Name)
		require.JSONEq(t, `{"city":"Paris"}`, resp.Choices[0].Message.ToolCalls[0].Function.Arguments)
	})

	t.Run("upstream 400 is passed through unchanged", func(t *testing.T) {
		var raw *http.Response
		_, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("INVALID_SCHEMA"), MaxTokens: openai.Int(5)}, option.WithResponseInto(&raw))
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		require.Equal(t, "invalid_function_parameters", apiErr.Code)
		require.Equal(t, "tools[0].function.parameters", apiErr.Param)
		require.Contains(t, apiErr.Message, "Invalid schema for function")
		calls := b.upstream.count("gpt-4o")
		_, _ = b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-4o", Messages: userMsg("INVALID_SCHEMA"), MaxTokens: openai.Int(5)})
		require.Equal(t, calls+1, b.upstream.count("gpt-4o"), "a 400 is never retried")
	})

	t.Run("unknown model is a 400 in OpenAI's shape", func(t *testing.T) {
		_, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "gpt-9-ultra", Messages: userMsg("x"), MaxTokens: openai.Int(5)})
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, apiErr.StatusCode)
		require.NotEmpty(t, apiErr.Message)
	})

	t.Run("models lists what the key may use", func(t *testing.T) {
		page, err := b.client.Models.List(ctx)
		require.NoError(t, err)
		ids := map[string]bool{}
		for _, m := range page.Data {
			ids[m.ID] = true
		}
		require.True(t, ids["gpt-4o"])
		require.True(t, ids["claude-sonnet-4"])
		require.True(t, ids["auto"])
		require.False(t, ids["sim-small"], "the simulated provider is off in multi-tenant mode without TOLLGATE_SIM")
	})

	t.Run("anthropic models are translated both ways", func(t *testing.T) {
		resp, err := b.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "claude-sonnet-4", Messages: userMsg("bonjour"), MaxTokens: openai.Int(16)})
		require.NoError(t, err)
		require.NotEmpty(t, resp.Choices[0].Message.Content)
		require.Positive(t, resp.Usage.PromptTokens)
		stream := b.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "claude-sonnet-4", Messages: userMsg("bonjour"), MaxTokens: openai.Int(16),
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
		var usage int64
		for stream.Next() {
			if u := stream.Current().Usage.TotalTokens; u > 0 {
				usage = u
			}
		}
		require.NoError(t, stream.Err())
		require.Positive(t, usage)
		require.Equal(t, "/v1/messages", b.anthropic.LastRequest(t).Path)
	})

	// Every completed request above reached the ledger with its exact cost.
	evs := b.stack.waitLedger(t, b.tenant, func(evs []ledger.Event) bool { return len(evs) >= 7 })
	for _, e := range evs {
		require.NotEmpty(t, e.ModelUsed)
		require.Positive(t, int64(e.Cost), "%+v", e)
	}
}

func TestGatewayFallsBackOnUpstream500(t *testing.T) {
	t.Parallel()
	b := setupGateway(t)
	b.upstream.mu.Lock()
	b.upstream.failModel["gpt-4o-mini"] = http.StatusInternalServerError
	b.upstream.mu.Unlock()

	var raw *http.Response
	resp, err := b.client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{
		Model: "auto", Messages: userMsg("hi"), MaxTokens: openai.Int(5)}, option.WithResponseInto(&raw))
	require.NoError(t, err)
	require.NotEmpty(t, resp.Choices[0].Message.Content)
	require.NotEqual(t, "gpt-4o-mini", raw.Header.Get("x-tollgate-model"), "a fallback model answered")
	require.Contains(t, raw.Header.Get("x-tollgate-route-reason"), "fallback")
	require.Positive(t, b.upstream.count("gpt-4o-mini"), "the first choice was tried")

	evs := b.stack.waitLedger(t, b.tenant, func(evs []ledger.Event) bool { return len(evs) == 1 })
	require.Equal(t, raw.Header.Get("x-tollgate-model"), evs[0].ModelUsed)
	require.Equal(t, "auto", evs[0].ModelRequested)
	require.Contains(t, evs[0].RouteReason, "fallback")
}

func TestGatewayClientCancelMidStream(t *testing.T) {
	t.Parallel()
	b := setupGateway(t)
	ctx, cancel := context.WithCancel(t.Context())
	stream := b.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: userMsg("HANG please"), MaxTokens: openai.Int(50),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	// Read until some text has streamed (the upstream then hangs), then leave.
	gotText := false
	for !gotText && stream.Next() {
		for _, c := range stream.Current().Choices {
			gotText = gotText || c.Delta.Content != ""
		}
	}
	require.True(t, gotText, "text arrives before the upstream hangs")
	cancel()
	for stream.Next() {
	}
	require.True(t, stream.Err() == nil || errors.Is(stream.Err(), context.Canceled))

	select {
	case <-b.upstream.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client went away")
	}
	evs := b.stack.waitLedger(t, b.tenant, func(evs []ledger.Event) bool { return len(evs) == 1 })
	require.Equal(t, ledger.StatusAborted, evs[0].Status)
	require.Positive(t, evs[0].InputTokens, "usage is estimated from what was streamed")
	require.Positive(t, evs[0].OutputTokens)
	require.Positive(t, int64(evs[0].Cost))
}

// With Redis, the console's live feed is cluster-wide: a console connected to
// replica A sees a request served by replica B.
func TestLiveFeedAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbURL := testdb.Postgres(t)
	a := startStack(t, clusterEnv(t, dbURL))
	b := startStack(t, clusterEnv(t, dbURL))
	tn, _, key := a.tenantWithKey(t, "live", apikeys.CreateKeyInput{})
	svc := newIdentityServices(a.op, accounts.PasswordParams{})
	u, err := svc.users.Create(t.Context(), accounts.CreateUserInput{Email: "watcher@example.com", Password: "watcher-password-1"})
	require.NoError(t, err)
	require.NoError(t, svc.users.AddMember(t.Context(), tn.ID, u.ID, access.RoleViewer, audit.Actor{Email: "test"}))

	// Given a console watching tenant "live" on replica A
	resp, err := http.Post(a.baseURL+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"watcher@example.com","password":"watcher-password-1"}`))
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.NotEmpty(t, tok.AccessToken)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(a.baseURL, "http") + "/api/v1/tenants/" + string(tn.ID) + "/live?access_token=" + tok.AccessToken
	var conn *websocket.Conn
	require.Eventually(t, func() bool {
		conn, _, err = websocket.Dial(ctx, wsURL, nil)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "the viewer's role reaches replica A")
	defer conn.CloseNow()

	// When replica B serves a request for the tenant
	req, _ := http.NewRequest(http.MethodPost, b.baseURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"sim-small","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	reqID := resp.Header.Get("x-tollgate-request-id")

	// Then the console on A receives the request
	for {
		_, data, err := conn.Read(ctx)
		require.NoError(t, err, "no live message for the request served by B")
		var msg struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(data, &msg))
		if msg.Type == "request" && strings.Contains(string(msg.Data), reqID) {
			return
		}
	}
}
