package api

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// apiScenario is one HTTP expectation in the spirit of PocketBase's ApiScenario:
// who calls, what, and what must (and must not) come back. Unchanged additionally
// asserts that the identity tables are exactly as before the call.
type apiScenario struct {
	Name       string
	Caller     string // a key of the fixture's token map; "" sends no credentials
	Method     string
	Path       string // {A}, {B}, ... are replaced from the fixture's vars
	Body       any
	WantStatus int
	WantBody   []string
	DenyBody   []string
	Unchanged  bool
}

// fixture is the world a scenario table runs in.
type fixture struct {
	env    *testEnv
	tokens map[string]string
	vars   map[string]string
}

func (f *fixture) expand(s string) string {
	for k, v := range f.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (f *fixture) run(t *testing.T, scenarios []apiScenario) {
	t.Helper()
	for _, sc := range scenarios {
		token := ""
		if sc.Caller != "" {
			var ok bool
			token, ok = f.tokens[sc.Caller]
			require.True(t, ok, "%s: unknown caller %q", sc.Name, sc.Caller)
		}
		body := sc.Body
		if s, ok := body.(string); ok {
			body = f.expand(s)
		}
		var before string
		if sc.Unchanged {
			before = f.env.snapshot()
		}
		res := f.env.do(sc.Method, f.expand(sc.Path), token, body)
		require.Equal(t, sc.WantStatus, res.Status, "%s: %s %s\n%s", sc.Name, sc.Method, f.expand(sc.Path), res.Body)
		for _, want := range sc.WantBody {
			require.Contains(t, res.Body, f.expand(want), "%s", sc.Name)
		}
		for _, deny := range sc.DenyBody {
			require.NotContains(t, res.Body, f.expand(deny), "%s", sc.Name)
		}
		if sc.Unchanged {
			require.Equal(t, before, f.env.snapshot(), "%s: a refused request changed the database", sc.Name)
		}
	}
}
