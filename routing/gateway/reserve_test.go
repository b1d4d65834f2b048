package gateway

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

// TestWithinOutputLimit: max_tokens above the chosen model's limit is refused
// naming the field; fallbacks whose limit is lower are dropped rather than sent
// a request they would refuse or clamp.
func TestWithinOutputLimit(t *testing.T) {
	t.Parallel()
	cat := routing.DefaultCatalog()
	model := func(id string) routing.Model {
		m, ok := cat.Lookup(id)
		require.True(t, ok, id)
		return m
	}
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","max_completion_tokens":20000,"messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)

	d := routing.Decision{Model: model("gpt-4.1"), Fallbacks: []routing.Model{model("gpt-4o"), model("gpt-4.1-mini")}}
	require.NoError(t, withinOutputLimit(&d, req))
	require.Equal(t, []routing.Model{model("gpt-4.1-mini")}, d.Fallbacks, "gpt-4o stops at 16,384")

	d = routing.Decision{Model: model("gpt-4o-mini")}
	err = withinOutputLimit(&d, req)
	require.ErrorIs(t, err, errkind.Invalid)
	require.Equal(t, "max_completion_tokens", errkind.ParamOf(err))
}
