package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// InvoiceRuns enqueues invoice runs for the worker (worker.Enqueuer).
type InvoiceRuns interface {
	// EnqueueInvoiceRun enqueues the run, unique by tenant and period; duplicate
	// is true when it was already queued or done, and job is then that run.
	EnqueueInvoiceRun(ctx context.Context, in invoicing.RunInput) (job jobs.View, duplicate bool, err error)
}

// Invoices serves a tenant's invoices and the manual "invoice now".
type Invoices struct {
	registry *tenants.Registry
	svc      *invoicing.Service
	runs     InvoiceRuns
	clock    func() time.Time
}

// NewInvoices returns the invoice endpoints. svc decides whether billing is on;
// runs are enqueued on runs and worked by the worker.
func NewInvoices(registry *tenants.Registry, svc *invoicing.Service, runs InvoiceRuns, clock func() time.Time) *Invoices {
	if clock == nil {
		clock = time.Now
	}
	return &Invoices{registry: registry, svc: svc, runs: runs, clock: clock}
}

// Routes returns the registrar of the invoice routes under ident's tenant group:
// listing and previewing for owner, admin and billing (invoices:read); running an invoice now for
// owners and superadmins (invoices:create).
func (iv *Invoices) Routes(ident *Identity) func(*gin.Engine) {
	return func(e *gin.Engine) {
		t := ident.TenantGroup(e)
		t.GET("/invoices", ident.Authorize(access.ResourceInvoices, access.ActionRead), h(iv.list))
		t.GET("/invoices/preview", ident.Authorize(access.ResourceInvoices, access.ActionRead), h(iv.preview))
		t.POST("/invoices/run", ident.Authorize(access.ResourceInvoices, access.ActionCreate), h(iv.run))
	}
}

type invoiceDTO struct {
	ID              string        `json:"id"`
	Period          string        `json:"period"`
	Status          string        `json:"status"`
	AmountNano      int64         `json:"amount_nano"`
	AmountUSD       string        `json:"amount_usd"`
	AmountCents     int64         `json:"amount_cents"`
	CostNano        int64         `json:"cost_nano"`
	CostUSD         string        `json:"cost_usd"`
	ChargeNano      int64         `json:"charge_nano"`
	RoundingNano    int64         `json:"rounding_nano"`
	Number          string        `json:"number"`
	HostedURL       string        `json:"hosted_url"`
	StripeInvoiceID string        `json:"stripe_invoice_id"`
	Lines           []invoiceLine `json:"lines"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

type invoiceLine struct {
	LineID      string `json:"line_id"`
	Kind        string `json:"kind"`
	Model       string `json:"model,omitempty"`
	Description string `json:"description"`
	Requests    int64  `json:"requests"`
	// InputTokens are uncached input tokens; CachedTokens (cache reads) and
	// CacheWriteTokens are priced apart.
	InputTokens      int64 `json:"input_tokens"`
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CostNano         int64 `json:"cost_nano"`
	ChargeNano       int64 `json:"charge_nano"`
	AmountCents      int64 `json:"amount_cents"`
	RoundingNano     int64 `json:"rounding_nano"`
}

func mapInvoice(inv invoicing.Invoice) invoiceDTO {
	amount := billing.NanoUSD(inv.AmountCents) * billing.NanoPerCent
	out := invoiceDTO{ID: inv.ID, Period: inv.Period, Status: string(inv.Status), AmountNano: int64(amount), AmountUSD: amount.USDString(),
		AmountCents: inv.AmountCents, CostNano: int64(inv.Cost), CostUSD: inv.Cost.USDString(), ChargeNano: int64(inv.Charge),
		RoundingNano: int64(inv.Rounding), Number: inv.Number, HostedURL: inv.HostedURL, StripeInvoiceID: inv.StripeInvoiceID,
		Lines: []invoiceLine{}, CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
	for _, l := range inv.Lines {
		out.Lines = append(out.Lines, invoiceLine{LineID: l.LineID, Kind: string(l.Kind), Model: l.Model, Description: l.Description,
			Requests: l.Requests, InputTokens: l.InputTokens, CachedTokens: l.CachedTokens, CacheWriteTokens: l.CacheWriteTokens,
			OutputTokens: l.OutputTokens, CostNano: int64(l.Cost),
			ChargeNano: int64(l.Charge), AmountCents: l.AmountCents, RoundingNano: int64(l.Rounding)})
	}
	return out
}

// list: GET /api/v1/tenants/{tenant}/invoices.
func (iv *Invoices) list(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	hd, err := iv.registry.Handle(p)
	if err != nil {
		return err
	}
	all, err := invoicing.List(c.Request.Context(), hd, true)
	if err != nil {
		return err
	}
	out := listResponse[invoiceDTO]{Data: make([]invoiceDTO, len(all))}
	for i, inv := range all {
		out.Data[i] = mapInvoice(inv)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type runInvoiceRequest struct {
	// Period is "YYYY-MM"; empty means the previous month.
	Period string `json:"period"`
}

type runInvoiceResponse struct {
	Job jobs.View `json:"job"`
	// Duplicate is true when a run of this tenant and period was already queued
	// or done; Job is then that run.
	Duplicate bool `json:"duplicate"`
}

// run: POST /api/v1/tenants/{tenant}/invoices/run {period}. It enqueues the run
// (unique by tenant and period) and answers 202 with the job.
func (iv *Invoices) run(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var req runInvoiceRequest
	if c.Request.ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	if iv.svc == nil || !iv.svc.Enabled() {
		return errkind.New(errkind.Conflict, "billing is off in this deployment (self-host mode or STRIPE_API_KEY unset)")
	}
	if req.Period == "" {
		req.Period = invoicing.PreviousPeriod(iv.clock())
	}
	in := invoicing.RunInput{TenantID: p.TenantID(), Period: req.Period}
	if err := in.Validate(iv.clock()); err != nil {
		return err
	}
	job, dup, err := iv.runs.EnqueueInvoiceRun(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, runInvoiceResponse{Job: job, Duplicate: dup})
	return nil
}

// invoicePreviewDTO is the upcoming invoice: the lines a run would bill for the
// period from the ledger as it stands, with the plan that priced them.
type invoicePreviewDTO struct {
	invoiceDTO
	// AsOf is when the ledger was read; Final is true for a month that has ended.
	AsOf  time.Time `json:"as_of"`
	Final bool      `json:"final"`
	// MarkupBasisPoints is the plan's markup on provider cost (2500 = 25%).
	MarkupBasisPoints int64 `json:"markup_basis_points"`
	// PlatformFeeNano is the plan's flat monthly fee (a line of its own when set).
	PlatformFeeNano int64 `json:"platform_fee_nano"`
	// ChargeUSD is the exact charge before rounding; RoundingUSD what rounding each
	// line to cents added (negative: dropped).
	ChargeUSD   string `json:"charge_usd"`
	RoundingUSD string `json:"rounding_usd"`
	// BillingEnabled is false in self-host mode or without STRIPE_API_KEY: the
	// preview is then for reading only, and no run will send it.
	BillingEnabled bool `json:"billing_enabled"`
}

// preview: GET /api/v1/tenants/{tenant}/invoices/preview[?period=YYYY-MM]. It
// builds the period's invoice (default: the current month) with the run's own
// code, stores nothing and sends nothing; it answers even when billing is off.
func (iv *Invoices) preview(c *gin.Context) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	if iv.svc == nil {
		return errkind.New(errkind.Unavailable, "invoicing is not wired in this process")
	}
	res, err := iv.svc.Preview(c.Request.Context(), invoicing.PreviewInput{TenantID: p.TenantID(), Period: c.Query("period")})
	if err != nil {
		return err
	}
	out := invoicePreviewDTO{invoiceDTO: mapInvoice(res.Invoice), AsOf: res.AsOf, Final: res.Final,
		MarkupBasisPoints: res.Plan.MarkupBasisPoints, PlatformFeeNano: int64(res.Plan.PlatformFee),
		ChargeUSD: res.Invoice.Charge.USDString(), RoundingUSD: res.Invoice.Rounding.USDString(), BillingEnabled: iv.svc.Enabled()}
	out.Status = "preview"
	c.JSON(http.StatusOK, out)
	return nil
}
