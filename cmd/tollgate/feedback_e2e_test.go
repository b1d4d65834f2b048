package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

func postV1(t *testing.T, url, secret, body string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+secret)
	r.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// Feedback is stored per tenant for requests of that tenant only, and the
// ledger row it rates carries the route features replays read.
func TestFeedbackE2E(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	ta, _, keyA := s.tenantWithKey(t, "fb-a", apikeys.CreateKeyInput{})
	_, _, keyB := s.tenantWithKey(t, "fb-b", apikeys.CreateKeyInput{})

	// Given a served "auto" request of tenant A,
	resp, body := postV1(t, s.baseURL+"/v1/chat/completions", keyA, `{"model":"auto","max_tokens":20,"messages":[{"role":"user","content":"hi there"}]}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	id := resp.Header.Get("x-tollgate-request-id")
	require.Contains(t, resp.Header.Get("x-tollgate-route-reason"), "threshold")
	evs := s.waitLedger(t, ta, func(evs []ledger.Event) bool { return len(evs) == 1 })
	require.Contains(t, evs[0].RouteFeatures, `"p_standard"`, "the ledger keeps the classifier inputs")
	require.NotContains(t, evs[0].RouteFeatures, "hi there", "and never the content")

	// when tenant B rates it, nothing is stored (it is not B's request);
	resp, body = postV1(t, s.baseURL+"/v1/feedback", keyB, `{"request_id":"`+id+`","needed_stronger":true}`)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, body)
	// bad input is a 400 naming the field;
	resp, body = postV1(t, s.baseURL+"/v1/feedback", keyA, `{"request_id":"`+id+`","rating":9}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, "rating")
	resp, body = postV1(t, s.baseURL+"/v1/feedback", keyA, `{"request_id":"`+id+`","stars":3}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	// then tenant A's rating is stored with the request's routing facts.
	resp, body = postV1(t, s.baseURL+"/v1/feedback", keyA, `{"request_id":"`+id+`","rating":2,"needed_stronger":true,"comment":"too shallow"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	list, err := gateway.ListFeedback(t.Context(), s.handle(t, ta), 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, id, list[0].RequestID)
	require.True(t, list[0].NeededStronger)
	require.Equal(t, evs[0].ModelUsed, list[0].ModelUsed)
	require.Positive(t, list[0].PStandard)
}
