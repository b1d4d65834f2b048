package routing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

const (
	easyTurn  = "lol thanks!"
	hardTurn  = "write a migration plan to move our billing tables from MySQL to Postgres without downtime"
	greeting  = "hi! how are you today?"
	reply     = "I'm great, thanks for asking!"
	planReply = "Here is the plan: 1. dual-write, 2. backfill, 3. switch reads."
)

func TestAffinityFollowsTheConversation(t *testing.T) {
	t.Parallel()
	s := newSelector(t, nil)
	sel := func(t *testing.T, msgs ...string) routing.Decision {
		t.Helper()
		d, err := s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: chatReq(t, "auto", msgs...), Policy: routing.DefaultPolicy()})
		require.NoError(t, err)
		return d
	}
	// Given a conversation on economy that escalates for one hard turn,
	d := sel(t, greeting)
	require.Equal(t, "gpt-4o-mini", d.Model.ID, d.Header())
	d = sel(t, greeting, reply, hardTurn)
	require.Equal(t, "gpt-4o", d.Model.ID, d.Header())
	require.Equal(t, routing.RouteReasonAutoComplex, d.Reason)
	// when a clearly easy turn follows, it steps back down,
	d = sel(t, greeting, reply, hardTurn, planReply, easyTurn)
	require.Equal(t, routing.RouteReasonAffinityStepDown, d.Reason, d.Header())
	require.Equal(t, "gpt-4o-mini", d.Model.ID)

	// but after two hard turns the conversation stays on the stronger model.
	sel(t, "hey there", reply, hardTurn)
	d = sel(t, "hey there", reply, hardTurn, planReply, hardTurn+" and add a rollback section")
	require.Equal(t, "gpt-4o", d.Model.ID, d.Header())
	d = sel(t, "hey there", reply, hardTurn, planReply, hardTurn+" and add a rollback section", planReply, easyTurn)
	require.Equal(t, routing.RouteReasonAffinity, d.Reason, d.Header())
	require.Equal(t, "gpt-4o", d.Model.ID)

	// Another chat that shares the opening line but not the history is not
	// that conversation: its easy turn goes to economy on its own merits.
	d = sel(t, greeting, reply, "what's your favourite colour?", "Teal!", easyTurn)
	require.Equal(t, routing.RouteReasonAutoEconomy, d.Reason, d.Header())
	require.NotEqual(t, d.Features.Conversation, "", "a later turn looks up its history")
}

func TestAffinityExplicitKeys(t *testing.T) {
	t.Parallel()
	s := newSelector(t, nil)
	keyed := func(t *testing.T, tenant, conv, pck, user string, msgs ...string) routing.Decision {
		t.Helper()
		req := chatReq(t, "auto", msgs...)
		req.Conversation, req.PromptCacheKey, req.User = conv, pck, user
		d, err := s.Select(t.Context(), routing.SelectInput{TenantID: tenant, Request: req, Policy: routing.DefaultPolicy()})
		require.NoError(t, err)
		return d
	}
	// The header links turns whose histories a client trimmed or rewrote.
	keyed(t, "t1", "conv-1", "", "", hardTurn)
	d := keyed(t, "t1", "conv-1", "", "", "and what about the indexes?")
	require.Contains(t, []routing.RouteReason{routing.RouteReasonAffinity, routing.RouteReasonAutoComplex}, d.Reason, d.Header())
	require.Equal(t, "gpt-4o", d.Model.ID, d.Header())
	require.Equal(t, d.Features.Conversation, d.Features.ConversationNext, "an explicit key is the same before and after the turn")
	// The header wins over prompt_cache_key, which wins over user; keys never
	// cross tenants.
	a := keyed(t, "t1", "x", "p", "u", greeting)
	b := keyed(t, "t1", "", "p", "u", greeting)
	c := keyed(t, "t1", "", "", "u", greeting)
	other := keyed(t, "t2", "x", "", "", greeting)
	require.NotEqual(t, a.Features.Conversation, b.Features.Conversation)
	require.NotEqual(t, b.Features.Conversation, c.Features.Conversation)
	require.NotEqual(t, a.Features.Conversation, other.Features.Conversation)
}
