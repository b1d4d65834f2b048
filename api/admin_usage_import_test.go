package api

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants/access"
)

// TestUsageImport: an owner imports an OpenRouter export with no costs (the
// catalog prices it); it shows in analytics as imported and in the what-if,
// re-importing counts nothing twice, a malformed file changes nothing, a
// developer may not import, and the import is audited.
func TestUsageImport(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a := b.tenant("acme")
			_, owner := b.member(a, access.RoleOwner)
			_, dev := b.member(a, access.RoleDeveloper)
			base := "/api/v1/tenants/" + string(a.ID)
			day := time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")
			export := "generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,api_key_name,user\n"
			for i := range 3 {
				export += fmt.Sprintf("gen-%d,%s 10:0%d:00,sim-large,1000,200,app,u%d\n", i, day, i, i)
			}

			// Given an owner's import, then 3 new rows priced at sim-large's
			// catalog prices (1000×2500 + 200×10000 = 4.5M nano each).
			res := b.do("POST", base+"/usage/import?format=openrouter&file_name=..%2Factivity.csv", owner, export)
			require.Equal(t, 201, res.Status, res.Body)
			imp := decode[usageImportDTO](t, res)
			require.Equal(t, [4]int{3, 3, 0, 0}, [4]int{imp.Rows, imp.New, imp.Updated, imp.Unchanged})
			require.Equal(t, int64(13_500_000), imp.CostNano)
			require.Equal(t, day, imp.From)

			// Analytics show it, marked imported; served usage alone is empty.
			rep := decode[usageDTO](t, b.do("GET", base+"/usage?group_by=api", owner, nil))
			require.Equal(t, int64(13_500_000), rep.Totals.CostNano)
			require.Len(t, rep.Series, 1)
			require.Equal(t, "imported", rep.Series[0].API)
			served := decode[usageDTO](t, b.do("GET", base+"/usage?source=served", owner, nil))
			require.Zero(t, served.Totals.Requests)
			require.Equal(t, 422, b.do("GET", base+"/usage?source=mine", owner, nil).Status)

			// The same file again counts nothing twice.
			again := decode[usageImportDTO](t, b.do("POST", base+"/usage/import?format=openrouter", owner, export))
			require.Equal(t, 3, again.Unchanged)
			rep = decode[usageDTO](t, b.do("GET", base+"/usage", owner, nil))
			require.Equal(t, int64(3), rep.Totals.Requests)

			// The what-if replays the imported requests.
			body := map[string]any{"policy": map[string]any{"tiers": map[string][]string{"economy": {"sim-small"}, "standard": {"sim-large"}}, "max_tier": "economy"},
				"force_auto": true}
			sim := decode[simulateDTO](t, b.do("POST", base+"/routing/simulate", owner, body))
			require.Equal(t, 3, sim.ImportedRequests)
			require.Equal(t, 3, sim.Requests)
			require.Equal(t, int64(13_500_000), sim.BeforeNano)
			require.Equal(t, int64(3*270_000), sim.AfterNano)

			// A malformed row refuses the whole file, naming its line.
			bad := export + "gen-9,not-a-date,sim-large,1,1,app,u\n"
			res = b.do("POST", base+"/usage/import?format=openrouter", owner, bad)
			require.Equal(t, 422, res.Status, res.Body)
			require.Contains(t, res.Body, `1 malformed row; nothing was imported`)
			require.Contains(t, res.Body, `\nline 5: created_at \"not-a-date\" is not a time`)
			runs := decode[struct{ Data []usageImportRunDTO }](t, b.do("GET", base+"/usage/imports", owner, nil))
			require.Len(t, runs.Data, 2)
			require.Equal(t, "activity.csv", runs.Data[1].FileName, "the file name is recorded, without its path")

			// A developer may not import; a missing format is one clear error.
			require.Equal(t, 403, b.do("POST", base+"/usage/import?format=openrouter", dev, export).Status)
			res = b.do("POST", base+"/usage/import", owner, export)
			require.Equal(t, 422, res.Status)
			require.Contains(t, res.Body, "format is required: openrouter or openai")

			// A multipart upload, dry: counted, not written.
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			require.NoError(t, mw.WriteField("format", "openrouter"))
			require.NoError(t, mw.WriteField("dry_run", "true"))
			fw, err := mw.CreateFormFile("file", "activity.csv")
			require.NoError(t, err)
			_, err = fw.Write([]byte(strings.Replace(export, "gen-2", "gen-new", 1)))
			require.NoError(t, err)
			require.NoError(t, mw.Close())
			req := httptest.NewRequestWithContext(t.Context(), "POST", base+"/usage/import", &form)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+owner)
			w := httptest.NewRecorder()
			b.handler.ServeHTTP(w, req)
			require.Equal(t, 200, w.Code, w.Body.String())
			dry := decode[usageImportDTO](t, response{Status: w.Code, Body: w.Body.String()})
			require.True(t, dry.DryRun)
			require.Equal(t, [3]int{1, 0, 2}, [3]int{dry.New, dry.Updated, dry.Unchanged})
			rep = decode[usageDTO](t, b.do("GET", base+"/usage", owner, nil))
			require.Equal(t, int64(3), rep.Totals.Requests, "a dry run writes nothing")

			// The import is in the audit log.
			audit := b.do("GET", base+"/audit?limit=200", owner, nil)
			require.Contains(t, audit.Body, `"usage.import"`)
			require.Contains(t, audit.Body, imp.ID)
		})
	}
}
