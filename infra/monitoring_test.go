package infra

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/worker"
)

// ruleFile is a Prometheus rule file (the spec of a PrometheusRule); strict
// parsing rejects misspelt fields.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

var metricRef = regexp.MustCompile(`\btollgate_[a-z0-9_]+`)

// checkExpr fails when exprProblems finds any; it returns the families expr uses.
func checkExpr(t *testing.T, where, expr string) []string {
	t.Helper()
	used, problems := exprProblems(expr)
	require.Empty(t, problems, "%s: %s", where, expr)
	return used
}

// exprProblems lists the tollgate_* series expr names that the binary does not
// export (a histogram's _bucket, _sum and _count series count as its own), and
// unbalanced brackets or quotes. used is the exported families expr refers to.
func exprProblems(expr string) (used, problems []string) {
	exported := append(api.MetricNames(), worker.MetricNames()...)
	refs := metricRef.FindAllString(expr, -1)
	if len(refs) == 0 {
		problems = append(problems, "uses no tollgate metric")
	}
	for _, ref := range refs {
		name := ref
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(ref, suffix); ok && base == api.MetricHTTPDuration {
				name = base
			}
		}
		if !slices.Contains(exported, name) {
			problems = append(problems, ref+" is not a metric tollgate exports (api.MetricNames, worker.MetricNames)")
			continue
		}
		used = append(used, name)
	}
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, r := range expr {
		switch {
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return used, append(problems, "unbalanced "+string(r))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 || inString {
		problems = append(problems, "unclosed brackets or quotes")
	}
	return used, problems
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile("monitoring/alerts.yaml")
	require.NoError(t, err)
	var rf ruleFile
	require.NoError(t, yaml.UnmarshalStrict(raw, &rf))
	return rf
}

// Every alert is well formed and alerts only on metrics the binary exports; the
// alerts the deployment needs exist.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	rf := loadRules(t)
	require.NotEmpty(t, rf.Groups)
	var alerts []string
	for _, g := range rf.Groups {
		require.NotEmpty(t, g.Name)
		require.NotEmpty(t, g.Rules, g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: recording rules belong elsewhere", g.Name)
			require.NotContains(t, alerts, r.Alert, "duplicate alert")
			alerts = append(alerts, r.Alert)
			checkExpr(t, r.Alert, r.Expr)
			if r.For != "" {
				_, err := model.ParseDuration(r.For)
				require.NoError(t, err, r.Alert)
			}
			require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			require.NotEmpty(t, r.Annotations["description"], r.Alert)
		}
	}
	for _, want := range []string{"TollgateGatewayErrorRate", "TollgateGatewayLatencyP99", "TollgateMeterDegraded",
		"TollgateMeterUnavailable", "TollgateLedgerSpoolBacklog", "TollgateLedgerFlushFailing", "TollgateReconcileDrift",
		"TollgateInvoiceRunFailed", "TollgateAlertDeliveriesFailing"} {
		require.Contains(t, alerts, want)
	}
}

// The dashboard is valid Grafana JSON whose queries use only exported metrics, and
// together with the alerts it shows every family the binary exports.
func TestDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("monitoring/dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				H, W, X, Y int
			} `json:"gridPos"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	require.NotEmpty(t, dash.Title)
	require.NotEmpty(t, dash.UID)
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		require.False(t, ids[p.ID], "duplicate panel id %d", p.ID)
		ids[p.ID] = true
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
		if p.Type == "row" {
			continue
		}
		require.Equal(t, "${datasource}", p.Datasource.UID, "%s: use the datasource variable", p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			for _, n := range checkExpr(t, p.Title, tg.Expr) {
				used[n] = true
			}
		}
	}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			for _, n := range checkExpr(t, r.Alert, r.Expr) {
				used[n] = true
			}
		}
	}
	for _, n := range append(api.MetricNames(), worker.MetricNames()...) {
		require.True(t, used[n], "%s is exported but neither charted nor alerted on", n)
	}
}

// exprProblems really catches what it is meant to.
func TestExprProblems(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		`rate(tollgate_http_requests_totl[5m])`:                   "tollgate_http_requests_totl is not",
		`rate(tollgate_usage_cost_nano_total_bucket[5m])`:         "tollgate_usage_cost_nano_total_bucket is not",
		`sum(rate(tollgate_http_requests_total[5m])`:              "unclosed",
		`sum(rate(tollgate_http_requests_total{route="(" }[5m]))`: "",
		`up == 0`: "uses no tollgate metric",
	} {
		_, problems := exprProblems(expr)
		if want == "" {
			require.Empty(t, problems, expr)
			continue
		}
		require.NotEmpty(t, problems, expr)
		require.Contains(t, strings.Join(problems, "; "), want, expr)
	}
	used, problems := exprProblems(`histogram_quantile(0.99, sum by (le) (rate(tollgate_http_request_duration_seconds_bucket[5m])))`)
	require.Empty(t, problems)
	require.Equal(t, []string{api.MetricHTTPDuration}, used)
}
