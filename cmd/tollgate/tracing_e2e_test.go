package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testotlp"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/providertest"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// tracingEnv points serve's OTLP exporter at endpoint over protocol. The SDK
// reads the process environment, so the variables are set there too (these
// tests are therefore not parallel). A one-minute batch delay means spans only
// leave at shutdown: the test checks that serve flushes them on exit.
func tracingEnv(t *testing.T, endpoint, protocol string) map[string]string {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
		"OTEL_SERVICE_NAME":           "tollgate-e2e",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=e2e",
		"OTEL_BSP_SCHEDULE_DELAY":     "60000",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	return env
}

// postJSON sends body to the gateway with the key and extra headers.
func postJSON(t *testing.T, url, key string, body any, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

// spanTree indexes one trace's spans.
type spanTree struct {
	t     *testing.T
	spans []testotlp.Span
}

func (st spanTree) named(name string) testotlp.Span {
	st.t.Helper()
	var found []testotlp.Span
	for _, s := range st.spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	require.Len(st.t, found, 1, "spans named %q", name)
	return found[0]
}

func (st spanTree) has(name string) bool {
	for _, s := range st.spans {
		if s.Name == name {
			return true
		}
	}
	return false
}

func strAttr(t *testing.T, s testotlp.Span, key string) string {
	t.Helper()
	v := s.Attr(key)
	require.NotNil(t, v, "span %q has no %s", s.Name, key)
	return v.GetStringValue()
}

func intAttr(t *testing.T, s testotlp.Span, key string) int64 {
	t.Helper()
	v := s.Attr(key)
	require.NotNil(t, v, "span %q has no %s", s.Name, key)
	return v.GetIntValue()
}

// TestTracingExportsGenAISpans runs serve with an OTLP exporter pointed at a real
// in-process OTLP receiver, over HTTP/protobuf and over gRPC. Given requests
// carrying a client traceparent, when serve stops, then the receiver holds one
// request span per request (GenAI attributes, Tollgate's tenant, key, route
// reason, cost and request id) whose parent is the client's span, with reserve,
// upstream and settle children; the upstream got the upstream span's
// traceparent; prompts and completions appear only for the tenant that opted in.
func TestTracingExportsGenAISpans(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			rcv := testotlp.Start(t)
			endpoint := rcv.HTTPEndpoint
			if protocol == "grpc" {
				endpoint = rcv.GRPCEndpoint
			}
			env := tracingEnv(t, endpoint, protocol)
			up := providertest.NewOpenAIUpstream(t, "openai-test-key")
			env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"] = up.URL+"/v1", "openai-test-key"
			s := startStack(t, env)

			tnA, keyA, secretA := s.tenantWithKey(t, "traced", apikeys.CreateKeyInput{})
			tnB, _, secretB := s.tenantWithKey(t, "content", apikeys.CreateKeyInput{})
			pol := routing.DefaultPolicy()
			pol.TraceContent = true
			require.NoError(t, gateway.SavePolicy(t.Context(), s.handle(t, tnB), pol, routing.DefaultCatalog()))
			tnC, _, secretC := s.tenantWithKey(t, "broke", apikeys.CreateKeyInput{})
			s.setBudget(t, tnC, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true})

			const (
				clientSpan  = "00f067aa0ba902b7"
				chatTrace   = "4bf92f3577b34da6a3ce929d0e0e4736"
				streamTrace = "4bf92f3577b34da6a3ce929d0e0e4737"
				embedTrace  = "4bf92f3577b34da6a3ce929d0e0e4738"
				optInTrace  = "4bf92f3577b34da6a3ce929d0e0e4739"
				refuseTrace = "4bf92f3577b34da6a3ce929d0e0e4740"
			)
			tp := func(trace string) map[string]string {
				return map[string]string{"traceparent": "00-" + trace + "-" + clientSpan + "-01", "X-Request-Id": "client-" + trace[28:]}
			}
			chatURL := s.baseURL + "/v1/chat/completions"

			// When: a chat, a stream, an embedding, an opted-in chat and a refusal.
			resp, body := postJSON(t, chatURL, secretA, map[string]any{"model": "gpt-4o-mini", "max_tokens": 16,
				"messages": []map[string]string{{"role": "user", "content": "secret prompt alpha"}}}, tp(chatTrace))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			chatRequestID := resp.Header.Get("x-tollgate-request-id")
			chatUpstreamTP := up.LastRequest(t).Header.Get("traceparent")

			resp, body = postJSON(t, chatURL, secretA, map[string]any{"model": "gpt-4o-mini", "max_tokens": 16, "stream": true,
				"stream_options": map[string]bool{"include_usage": true},
				"messages":       []map[string]string{{"role": "user", "content": "secret prompt alpha"}}}, tp(streamTrace))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			require.Contains(t, string(body), "data: [DONE]")

			resp, body = postJSON(t, s.baseURL+"/v1/embeddings", secretA, map[string]any{"model": "text-embedding-3-small",
				"input": "secret prompt alpha"}, tp(embedTrace))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

			resp, body = postJSON(t, chatURL, secretB, map[string]any{"model": "gpt-4o-mini", "max_tokens": 16,
				"messages": []map[string]string{{"role": "system", "content": "be brief"}, {"role": "user", "content": "secret prompt beta"}}}, tp(optInTrace))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

			resp, body = postJSON(t, chatURL, secretC, map[string]any{"model": "gpt-4o-mini", "max_tokens": 16,
				"messages": []map[string]string{{"role": "user", "content": "hello"}}}, tp(refuseTrace))
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))

			evs := s.waitLedger(t, tnA, func(evs []ledger.Event) bool { return len(evs) == 3 })
			var chatCost int64
			for _, e := range evs {
				if e.RequestID == chatRequestID {
					chatCost = int64(e.Cost)
				}
			}
			require.Positive(t, chatCost)
			require.Zero(t, rcv.Exports(), "a one-minute batch delay holds the spans until shutdown")

			// Then: stopping serve flushes every span to the receiver.
			s.stop()
			require.Eventually(t, func() bool { return len(rcv.Trace(refuseTrace)) > 0 }, 10*time.Second, 20*time.Millisecond)

			chat := spanTree{t, rcv.Trace(chatTrace)}
			root := chat.named("chat gpt-4o-mini")
			require.Equal(t, clientSpan, root.ParentID(), "the client's traceparent is the parent")
			require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, root.Kind)
			require.Equal(t, "tollgate-e2e", root.Resource["service.name"])
			require.Equal(t, "e2e", root.Resource["deployment.environment.name"])
			for key, want := range map[string]string{
				"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini",
				"gen_ai.provider.name": "openai", "tollgate.tenant.id": string(tnA.ID),
				"tollgate.api_key.id": keyA.ID, "tollgate.request.id": chatRequestID, "tollgate.request.client_id": "client-" + chatTrace[28:],
				"http.route": "/v1/chat/completions",
			} {
				require.Equal(t, want, strAttr(t, root, key), key)
			}
			require.True(t, strings.HasPrefix(strAttr(t, root, "tollgate.route.reason"), "explicit"))
			require.EqualValues(t, 11, intAttr(t, root, "gen_ai.usage.input_tokens"), "fake upstream: 10 + one message")
			require.EqualValues(t, len(providertest.FakeOpenAIWords), intAttr(t, root, "gen_ai.usage.output_tokens"))
			require.EqualValues(t, 16, intAttr(t, root, "gen_ai.request.max_tokens"))
			require.Equal(t, chatCost, intAttr(t, root, "tollgate.cost.nano_usd"), "the ledger's cost")
			require.EqualValues(t, 200, intAttr(t, root, "http.response.status_code"))
			for _, name := range []string{"tollgate.reserve", "tollgate.upstream", "tollgate.settle"} {
				require.Equal(t, root.SpanID(), chat.named(name).ParentID(), "%s is a child of the request span", name)
			}
			upSpan := chat.named("tollgate.upstream")
			require.Equal(t, tracepb.Span_SPAN_KIND_CLIENT, upSpan.Kind)
			require.Equal(t, "openai", strAttr(t, upSpan, "gen_ai.provider.name"))
			require.Equal(t, "allowed", strAttr(t, chat.named("tollgate.reserve"), "tollgate.reserve.decision"))
			require.Equal(t, "00-"+chatTrace+"-"+upSpan.SpanID()+"-01", chatUpstreamTP, "the upstream continues the trace from the upstream span")

			stream := spanTree{t, rcv.Trace(streamTrace)}
			sroot := stream.named("chat gpt-4o-mini")
			require.Equal(t, clientSpan, sroot.ParentID())
			require.EqualValues(t, len(providertest.FakeOpenAIWords), intAttr(t, sroot, "gen_ai.usage.output_tokens"))
			require.Equal(t, "ok", strAttr(t, sroot, "tollgate.status"))
			for _, name := range []string{"tollgate.reserve", "tollgate.upstream", "tollgate.settle"} {
				require.Equal(t, sroot.SpanID(), stream.named(name).ParentID())
			}

			embed := spanTree{t, rcv.Trace(embedTrace)}
			eroot := embed.named("embeddings text-embedding-3-small")
			require.Equal(t, "embeddings", strAttr(t, eroot, "gen_ai.operation.name"))
			require.EqualValues(t, 7, intAttr(t, eroot, "gen_ai.usage.input_tokens"))
			require.True(t, embed.has("tollgate.upstream") && embed.has("tollgate.settle") && embed.has("tollgate.reserve"))

			refused := spanTree{t, rcv.Trace(refuseTrace)}
			rroot := refused.named("chat gpt-4o-mini")
			require.EqualValues(t, 429, intAttr(t, rroot, "http.response.status_code"))
			require.Equal(t, "budget_exceeded", strAttr(t, rroot, "tollgate.reserve.decision"))
			require.Equal(t, string(tnC.ID), strAttr(t, rroot, "tollgate.tenant.id"))
			require.False(t, refused.has("tollgate.upstream"), "a refused request never reaches the upstream")

			// Content: only the tenant that opted in (trace_content) has it.
			optIn := spanTree{t, rcv.Trace(optInTrace)}
			oroot := optIn.named("chat gpt-4o-mini")
			require.Equal(t, string(tnB.ID), strAttr(t, oroot, "tollgate.tenant.id"))
			require.JSONEq(t, `[{"role":"system","parts":[{"type":"text","content":"be brief"}]},{"role":"user","parts":[{"type":"text","content":"secret prompt beta"}]}]`,
				strAttr(t, oroot, "gen_ai.input.messages"))
			require.JSONEq(t, `[{"role":"assistant","parts":[{"type":"text","content":"Hello from the fake upstream"}],"finish_reason":"stop"}]`,
				strAttr(t, oroot, "gen_ai.output.messages"))
			for _, sp := range rcv.Spans() {
				if sp.TraceID() == optInTrace {
					continue
				}
				require.Nil(t, sp.Attr("gen_ai.input.messages"), "span %q of a tenant that did not opt in", sp.Name)
				require.Nil(t, sp.Attr("gen_ai.output.messages"), "span %q of a tenant that did not opt in", sp.Name)
				for _, kv := range sp.Attributes {
					require.NotContains(t, kv.Value.GetStringValue(), "secret prompt", "span %q attribute %s", sp.Name, kv.Key)
				}
			}
			for _, sp := range rcv.Spans() {
				for _, kv := range sp.Attributes {
					for _, secret := range []string{secretA, secretB, secretC, "openai-test-key"} {
						require.NotContains(t, kv.Value.GetStringValue(), secret, "span %q attribute %s holds a key", sp.Name, kv.Key)
					}
				}
			}
		})
	}
}

// TestTracingOffByDefault: without OTEL_* variables serve installs no tracing, so
// a client's traceparent is neither continued nor passed to the upstream.
func TestTracingOffByDefault(t *testing.T) {
	t.Parallel()
	up := providertest.NewOpenAIUpstream(t, "openai-test-key")
	s := startStack(t, map[string]string{"OPENAI_BASE_URL": up.URL + "/v1", "OPENAI_API_KEY": "openai-test-key"})
	_, _, secret := s.tenantWithKey(t, "untraced", apikeys.CreateKeyInput{})
	resp, body := postJSON(t, s.baseURL+"/v1/chat/completions", secret, map[string]any{"model": "gpt-4o-mini", "max_tokens": 4,
		"messages": []map[string]string{{"role": "user", "content": "hi"}}},
		map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Empty(t, up.LastRequest(t).Header.Get("traceparent"))
}
