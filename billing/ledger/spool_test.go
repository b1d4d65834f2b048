package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAppendEventJSONMatchesMarshal holds the spool's hand-written encoding to
// json.Marshal's, byte for byte, for full, sparse and awkward events.
func TestAppendEventJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 16, 48, 41, 123456789, time.UTC)
	for _, e := range []Event{
		{TenantID: "01m8cbht6enn4qc5awb7hrwdgd", RequestID: "req_0123456789abcdef01234567", ClientRequestID: "client <7>", CreatedAt: at,
			KeyID: "key_1", MemberID: "mem_1", ModelRequested: "auto", ModelUsed: "gpt-4o-mini", Provider: "openai",
			InputTokens: 12, CachedTokens: 3, CacheWriteTokens: 4, OutputTokens: 1, Cost: 2400, CacheSaved: -17, LatencyMS: 7, Status: StatusOK,
			RouteReason: "auto_economy+fallback:upstream_error", API: "messages",
			RouteFeatures: `{"classifier":"builtin","p_standard":0.731}`, ConversationID: "c0ffee", KeptTurn: "AQID+/==",
			MaxTokens: 512, OverheadMS: 3, FirstByteMS: 240, Fallbacks: `[{"model":"gpt-4o","outcome":"upstream_error","ms":12}]`},
		{TenantID: "t", RequestID: "r", CreatedAt: at, ModelUsed: "m", Status: StatusOK, MaxTokens: -1, FirstByteMS: 9},
		{TenantID: "t", RequestID: "r", CreatedAt: at.Truncate(time.Second), ModelUsed: "m", Status: StatusAborted, API: "responses"},
		{TenantID: "t", RequestID: "r", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
			ModelUsed: `a "quoted" <model> & \ path`, Provider: "東京", Status: "ok\n\x01", InputTokens: -1, Cost: -5},
		{TenantID: "t", RequestID: "bad utf-8 \xff", ModelUsed: "m\u2028", Status: "ok"},
		{TenantID: "t", RequestID: "r", CreatedAt: at, KeyID: "k", ModelRequested: "gpt-4o", Status: StatusRefused, StatusCode: 429,
			ErrorType: "insufficient_quota", ErrorCode: "budget_exceeded", LatencyMS: 2, API: "chat"},
		{},
	} {
		want, err := json.Marshal(e)
		require.NoError(t, err)
		got, err := appendEventJSON(nil, e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	_, err := appendEventJSON(nil, Event{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Error(t, err, "json.Marshal refuses years past 9999, and so does the spool")
}

func BenchmarkAppendEventJSON(b *testing.B) {
	e := Event{TenantID: "01m8cbht6enn4qc5awb7hrwdgd", RequestID: "req_0123456789abcdef01234567", CreatedAt: time.Now().UTC(),
		KeyID: "01m8cbht6enn4qc5awb7hrwdge", ModelRequested: "gpt-4o-mini", ModelUsed: "gpt-4o-mini", Provider: "openai",
		InputTokens: 12, OutputTokens: 1, Cost: 2400, LatencyMS: 1, Status: StatusOK, RouteReason: "explicit"}
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(e)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = appendEventJSON(buf[:0], e)
		}
	})
}

// BenchmarkSpoolAppend measures the request path's share of the ledger: one
// event made durable, with the writer's flushes (every 500 events) retiring
// segments as in production.
func BenchmarkSpoolAppend(b *testing.B) {
	s, _, err := openSpool(b.TempDir())
	require.NoError(b, err)
	defer s.close()
	evs, _ := randomEvents("t1", 500, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		seg, err := s.append(evs[i%500])
		require.NoError(b, err)
		if i%500 == 499 {
			s.done(seg, 500)
		}
	}
}

// appendJSONString quotes as json.Marshal does: every byte alone and inside
// text, multi-byte runes, invalid and truncated UTF-8, the separators JSONP
// chokes on.
func TestAppendJSONStringMatchesMarshal(t *testing.T) {
	t.Parallel()
	cases := []string{"", "plain", `{"classifier":"builtin","p":0.5}`, "東京 \u2028 \u2029 é", "\xe6\x9d", "a\xffb\xc3", "\U0001F600<&>"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendJSONString([]byte("prefix"), s))[len("prefix"):], "%q", s)
	}
}
