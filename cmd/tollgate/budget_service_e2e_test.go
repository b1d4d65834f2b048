package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// runStackCLI runs the root command against a stack's database and returns
// stdout and stderr apart.
func runStackCLI(t *testing.T, s *stack, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"--database-url", s.op.cfg.Database.URL, "--env-file", ""}, args...))
	err := cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

const complexPrompt = "Analyze step by step and prove the bound."

// TestCLIBudgetStartsAtSpendSoFar: a key budget set with the CLI (naming the key
// by name) after $X of spend shows $X through the CLI and the admin API, its 80%
// alert fires on the request that crosses 80%, the change is in the audit log,
// and `budgets delete` removes it. Before, the CLI budget started at $0, took only
// a key id (a name made a budget that never applied) and was not audited.
func TestCLIBudgetStartsAtSpendSoFar(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, key, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{Name: "batch-jobs"})
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))

	// Given $X of spend this month on the key.
	_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "sim-large",
		Messages: userMsg("hello"), MaxTokens: openai.Int(1000)})
	require.NoError(t, err)
	evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 1 })
	spent := evs[0].Cost
	require.Positive(t, spent)

	// An unknown key is refused with the candidates listed, and changes nothing.
	_, _, err = runStackCLI(t, s, "budgets", "set", "--tenant", tn.Slug, "--key", "nightly", "--limit-usd", "1")
	require.Error(t, err)
	require.Contains(t, err.Error(), `"nightly" is not a key`)
	require.Contains(t, err.Error(), "batch-jobs ("+key.ID+")")

	// When a budget of X/0.7 is set by key name with the CLI.
	limit := spent * 10 / 7
	out, _, err := runStackCLI(t, s, "budgets", "set", "--tenant", tn.Slug, "--key", "batch-jobs", "--limit-usd", limit.USDString(),
		"--alert-at", "80", "--json")
	require.NoError(t, err)
	var set budgetJSON
	require.NoError(t, json.Unmarshal([]byte(out), &set))
	require.Equal(t, key.ID, set.ScopeID)
	require.Equal(t, spent.USDString(), set.SpentUSD)
	require.Nil(t, set.DowngradeAt)

	// Then the CLI list and the admin API show $X (70%).
	out, _, err = runStackCLI(t, s, "budgets", "list", "--tenant", tn.Slug, "--json")
	require.NoError(t, err)
	var listed []budgetJSON
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.Len(t, listed, 1)
	require.Equal(t, spent.USDString(), listed[0].SpentUSD)
	require.Equal(t, int64(70), listed[0].Percent)
	out, _, err = runStackCLI(t, s, "budgets", "list", "--tenant", tn.Slug)
	require.NoError(t, err)
	require.Contains(t, out, "key:batch-jobs")
	require.Contains(t, out, "never")
	require.NotContains(t, out, "0%\n")

	token := adminToken(t, s)
	status, body := adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+string(tn.ID)+"/budgets", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"spent_nano":`+itoa64(int64(spent)))
	require.Contains(t, body, `"scope_name":"batch-jobs"`)

	// When the next request crosses 80%, its alert fires (once the server's
	// budget cache, 2 s, has seen the CLI's budget: on SQLite the CLI cannot
	// notify the server).
	time.Sleep(2100 * time.Millisecond)
	h := s.handle(t, tn)
	alerts, err := budget.ListAlerts(t.Context(), h, 10)
	require.NoError(t, err)
	require.Empty(t, alerts)
	_, err = client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "sim-small",
		Messages: userMsg("hello"), MaxTokens: openai.Int(16_000)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		alerts, err = budget.ListAlerts(t.Context(), h, 10)
		return err == nil && len(alerts) == 1
	}, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, 80, alerts[0].Threshold)
	require.Greater(t, alerts[0].Spent, spent, "the alert counts the spend before the budget existed")

	// The CLI change is audited.
	audit, err := newIdentityServices(s.op, accounts.PasswordParams{}).audit.List(t.Context(), audit.ListAuditInput{TenantID: tn.ID})
	require.NoError(t, err)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action+"/"+e.ActorEmail)
	}
	require.Contains(t, actions, "budget.set/cli")

	// budgets delete removes it.
	_, stderr, err := runStackCLI(t, s, "budgets", "delete", "--tenant", tn.Slug, set.ID)
	require.NoError(t, err)
	require.Contains(t, stderr, "deleted budget "+set.ID)
	out, _, err = runStackCLI(t, s, "budgets", "list", "--tenant", tn.Slug, "--json")
	require.NoError(t, err)
	require.JSONEq(t, `[]`, out)
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestKeyLadderAndNamedModels: a key budget with downgrade_at 50 downgrades the
// key's "auto" requests past 50% while a tenant budget exists; a request naming a
// model is never substituted by default: near a hard key budget it is refused
// with a message naming the key, in cents.
func TestKeyLadderAndNamedModels(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, _, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{Name: "batch-jobs"})
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	ask := func(model string, maxTokens int64) (string, error) {
		t.Helper()
		var raw *http.Response
		_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: model,
			Messages: userMsg(complexPrompt), MaxTokens: openai.Int(maxTokens)}, option.WithResponseInto(&raw))
		if err != nil {
			return "", err
		}
		return raw.Header.Get("x-tollgate-model"), nil
	}
	_, _, err := runStackCLI(t, s, "budgets", "set", "--tenant", tn.Slug, "--limit-usd", "100")
	require.NoError(t, err)
	_, _, err = runStackCLI(t, s, "budgets", "set", "--tenant", tn.Slug, "--key", "batch-jobs", "--limit-usd", "0.02", "--downgrade-at", "50")
	require.NoError(t, err)
	time.Sleep(2100 * time.Millisecond) // the server's budget cache TTL

	model, err := ask("auto", 1000) // sim-large, a little over $0.01: past 50%
	require.NoError(t, err)
	require.Equal(t, "sim-large", model)
	model, err = ask("auto", 10)
	require.NoError(t, err)
	require.Equal(t, "sim-small", model, "past the key's downgrade_at")
	model, err = ask("sim-large", 10)
	require.NoError(t, err)
	require.Equal(t, "sim-large", model, "a named model is not downgraded")

	// A hard key budget without a ladder: the named model is refused, not swapped.
	_, _, err = runStackCLI(t, s, "budgets", "set", "--tenant", tn.Slug, "--key", "batch-jobs", "--limit-usd", "0.02", "--hard")
	require.NoError(t, err)
	time.Sleep(2100 * time.Millisecond)
	_, err = ask("sim-large", 1000)
	var apiErr *openai.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Equal(t, "budget_exceeded", apiErr.Code)
	require.True(t, strings.HasPrefix(apiErr.Message, `the monthly key "batch-jobs" budget of $0.02 would be exceeded`), apiErr.Message)
	require.Contains(t, apiErr.Message, "may cost up to $0.01")
	require.NotContains(t, apiErr.Message, "000000")
}

// TestRefusalsExplainThemselves: a rate-limited key gets OpenAI's x-ratelimit-*
// headers on every response (not only on its 429), and an unknown model is a
// 404 model_not_found pointing at GET /v1/models; a catalog model no provider
// serves names the setting that enables it.
func TestRefusalsExplainThemselves(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	_, _, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{Name: "limited", RPMLimit: 2, TPMLimit: 100_000})
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	ask := func(model string) (*http.Response, error) {
		var raw *http.Response
		_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: model,
			Messages: userMsg("hello"), MaxTokens: openai.Int(10)}, option.WithResponseInto(&raw))
		return raw, err
	}
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond) // keep the test inside one rate window
	}
	raw, err := ask("sim-small")
	require.NoError(t, err)
	require.Equal(t, "2", raw.Header.Get("x-ratelimit-limit-requests"))
	require.Equal(t, "1", raw.Header.Get("x-ratelimit-remaining-requests"))
	require.NotEmpty(t, raw.Header.Get("x-ratelimit-reset-requests"))
	require.Equal(t, "100000", raw.Header.Get("x-ratelimit-limit-tokens"))
	require.NotEmpty(t, raw.Header.Get("x-ratelimit-remaining-tokens"))
	require.NotEmpty(t, raw.Header.Get("x-ratelimit-reset-tokens"))

	// An unknown model: 404 model_not_found, param model, with the hint.
	_, err = ask("gpt-9")
	var apiErr *openai.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	require.Equal(t, "model_not_found", apiErr.Code)
	require.Equal(t, "invalid_request_error", apiErr.Type)
	require.Equal(t, "model", apiErr.Param)
	require.Contains(t, apiErr.Message, "GET /v1/models")
	require.Equal(t, "2", apiErr.Response.Header.Get("x-ratelimit-limit-requests"))
	// A catalog model whose provider is not configured says how to enable it.
	_, err = ask("gpt-4o")
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	require.Contains(t, apiErr.Message, "OPENAI_API_KEY")

	// The second request uses the last one; the third is refused with the headers.
	raw, err = ask("sim-small")
	require.NoError(t, err)
	require.Equal(t, "0", raw.Header.Get("x-ratelimit-remaining-requests"))
	_, err = ask("sim-small")
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Equal(t, "rate_limit_exceeded", apiErr.Code)
	require.Equal(t, "0", apiErr.Response.Header.Get("x-ratelimit-remaining-requests"))
	require.NotEmpty(t, apiErr.Response.Header.Get("x-ratelimit-reset-requests"))
}

// TestKeysCreateAndUsageCLI: `keys create` prints the secret alone on stdout
// (so KEY=$(tollgate keys create ...) works); `usage` takes the only tenant and
// breaks spend down --by key, model or day.
func TestKeysCreateAndUsageCLI(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, err := s.op.registry.Create(t.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)

	out, stderr, err := runStackCLI(t, s, "keys", "create", "--tenant", tn.Slug, "--name", "batch")
	require.NoError(t, err)
	secret := strings.TrimSpace(out)
	require.True(t, strings.HasPrefix(secret, "tg_"), out)
	require.NotContains(t, secret, " ")
	require.Contains(t, stderr, "created key")

	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	_, err = client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "sim-large",
		Messages: userMsg("hello"), MaxTokens: openai.Int(100)})
	require.NoError(t, err)
	evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 1 })

	out, _, err = runStackCLI(t, s, "usage", "--json")
	require.NoError(t, err)
	var totals struct {
		Tenant   string `json:"tenant"`
		Requests int64  `json:"requests"`
		CostUSD  string `json:"cost_usd"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &totals))
	require.Equal(t, tn.Slug, totals.Tenant)
	require.Equal(t, int64(1), totals.Requests)
	require.Equal(t, evs[0].Cost.USDString(), totals.CostUSD)

	require.Eventually(t, func() bool {
		out, _, err = runStackCLI(t, s, "usage", "--by", "key")
		return err == nil && strings.Contains(out, "batch ("+evs[0].KeyID+")")
	}, 5*time.Second, 50*time.Millisecond, out)
	require.Contains(t, out, "$"+evs[0].Cost.USDString())
	out, _, err = runStackCLI(t, s, "usage", "--by", "model", "--json")
	require.NoError(t, err)
	var rows []usageRowJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, "sim-large", rows[0].Group)
	require.Equal(t, int64(1), rows[0].Requests)
	_, _, err = runStackCLI(t, s, "usage", "--by", "colour")
	require.ErrorContains(t, err, "use model, key, member, day or api")

	// With two tenants, --tenant is needed and the error lists them.
	_, err = s.op.registry.Create(t.Context(), tenants.CreateInput{Name: "beta"})
	require.NoError(t, err)
	_, _, err = runStackCLI(t, s, "usage")
	require.ErrorContains(t, err, "--tenant is required: there are 2 tenants (acme, beta)")
}
