package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/usageimport"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// usageImportAPI brings usage history from another gateway's export.
type usageImportAPI struct {
	registry *tenants.Registry
	prices   priceCatalog
	clock    func() time.Time
	audit    auditor
}

func (a *usageImportAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.POST("/usage/import", id.Authorize(access.ResourceUsage, access.ActionImport), h(a.importUsage))
	t.GET("/usage/imports", id.Authorize(access.ResourceUsage, access.ActionRead), h(a.listImports))
}

// usageImportDTO is what an import changed (or, dry, would change).
type usageImportDTO struct {
	ID     string `json:"id"`
	DryRun bool   `json:"dry_run"`
	Format string `json:"format"`
	// Rows is how many usage rows the file held: New were added, Updated
	// replaced rows of an earlier import whose figures changed, Unchanged
	// were imported before and skipped.
	Rows         int    `json:"rows"`
	New          int    `json:"new"`
	Updated      int    `json:"updated"`
	Unchanged    int    `json:"unchanged"`
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostNano     int64  `json:"cost_nano"`
	CostUSD      string `json:"cost_usd"`
	// From and To are the first and last UTC day of the file's usage.
	From string `json:"from"`
	To   string `json:"to"`
}

// importUsage: POST /api/v1/tenants/{tenant}/usage/import?format=openrouter|openai[&dry_run=true][&file_name=].
// The export is the body as it is, or the "file" part of a multipart form
// (whose "format" and "dry_run" fields may stand in for the query). It lands
// as imported history in one transaction, or not at all: a malformed row
// answers 422 listing every malformed row by line.
func (a *usageImportAPI) importUsage(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	format, dry, name := c.Query("format"), c.Query("dry_run"), ""
	if n := c.Query("file_name"); n != "" {
		name = filepath.Base(n)
	}
	var data []byte
	if mt, _, _ := mime.ParseMediaType(c.ContentType()); mt == "multipart/form-data" {
		if format == "" {
			format = c.PostForm("format")
		}
		if dry == "" {
			dry = c.PostForm("dry_run")
		}
		fh, err := c.FormFile("file")
		if err != nil {
			if tooLarge(err) != nil {
				return tooLarge(err)
			}
			return errkind.InvalidParam("file", "the form has no file part: send the export as the multipart field \"file\"")
		}
		name = filepath.Base(fh.Filename)
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if data, err = io.ReadAll(f); err != nil {
			return err
		}
	} else if data, err = io.ReadAll(c.Request.Body); err != nil {
		if e := tooLarge(err); e != nil {
			return e
		}
		return err
	}
	dryRun := false
	if dry != "" {
		if dryRun, err = strconv.ParseBool(dry); err != nil {
			return errkind.InvalidParam("dry_run", "dry_run must be true or false")
		}
	}
	ctx := c.Request.Context()
	overrides, err := gateway.LoadPriceOverrides(ctx, hd)
	if err != nil {
		return err
	}
	cat, err := gateway.TenantCatalog(a.prices.base(), overrides)
	if err != nil {
		return err
	}
	who := actor(c)
	res, err := usageimport.Import(ctx, hd, gateway.ImportPricer{Catalog: cat}, usageimport.Input{Format: usageimport.Format(format),
		FileName: name, Data: data, Actor: who.Email, Now: a.clock(), DryRun: dryRun})
	if err != nil {
		return err
	}
	out := mapImport(res, format)
	if dryRun {
		c.JSON(http.StatusOK, out)
		return nil
	}
	a.audit.record(c, p.TenantID(), "usage.import", res.ID, map[string]any{"format": format, "file_name": name, "rows": res.Rows,
		"new": res.New, "updated": res.Updated, "unchanged": res.Unchanged, "cost_usd": res.Cost.USDString(), "from": res.From, "to": res.To})
	c.JSON(http.StatusCreated, out)
	return nil
}

// tooLarge turns a body over the server's limit into a 413 that says what to
// do instead; nil for other errors.
func tooLarge(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return errkind.New(errkind.TooLarge, "the export is over the %d-byte upload limit; split it by date, or import it with `tollgate usage import` on the server",
			maxErr.Limit)
	}
	return nil
}

func mapImport(r ledger.ImportResult, format string) usageImportDTO {
	return usageImportDTO{ID: r.ID, DryRun: r.DryRun, Format: format, Rows: r.Rows, New: r.New, Updated: r.Updated, Unchanged: r.Unchanged,
		Requests: r.Requests, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostNano: int64(r.Cost), CostUSD: r.Cost.USDString(),
		From: r.From, To: r.To}
}

type usageImportRunDTO struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Format    string    `json:"format"`
	FileName  string    `json:"file_name"`
	Actor     string    `json:"actor"`
	Rows      int64     `json:"rows"`
	New       int64     `json:"new"`
	Updated   int64     `json:"updated"`
	Unchanged int64     `json:"unchanged"`
	CostNano  int64     `json:"cost_nano"`
	CostUSD   string    `json:"cost_usd"`
}

// listImports: GET /api/v1/tenants/{tenant}/usage/imports?limit=, past import
// runs newest first.
func (a *usageImportAPI) listImports(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	runs, err := ledger.Imports(c.Request.Context(), hd, limit)
	if err != nil {
		return err
	}
	out := make([]usageImportRunDTO, len(runs))
	for i, r := range runs {
		out[i] = usageImportRunDTO{ID: r.ID, CreatedAt: r.CreatedAt, Format: r.Format, FileName: r.FileName, Actor: r.Actor, Rows: r.Rows,
			New: r.New, Updated: r.Updated, Unchanged: r.Unchanged, CostNano: int64(r.Cost), CostUSD: r.Cost.USDString()}
	}
	c.JSON(http.StatusOK, gin.H{"data": out})
	return nil
}
