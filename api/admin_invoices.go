package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/worker"
)

// Invoices serves a tenant's invoices and the manual "invoice now".
type Invoices struct {
	registry *tenants.Registry
	svc      *invoicing.Service
	client   worker.Client
	clock    func() time.Time
}

// NewInvoices returns the invoice endpoints. svc decides whether billing is on;
// runs are enqueued on client and worked by the worker.
func NewInvoices(registry *tenants.Registry, svc *invoicing.Service, client worker.Client, clock func() time.Time) *Invoices {
	if clock == nil {
		clock = time.Now
	}
	return &Invoices{registry: registry, svc: svc, client: client, clock: clock}
}

// Routes returns the registrar of the invoice routes under ident's tenant group:
// listing for owner, admin and billing (invoices:read); running an invoice now for
// owners and superadmins (invoices:create).
func (iv *Invoices) Routes(ident *Identity) func(*gin.Engine) {
	return func(e *gin.Engine) {
		t := ident.TenantGroup(e)
		t.GET("/invoices", ident.Authorize(access.ResourceInvoices, access.ActionRead), h(iv.list))
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
	LineID       string `json:"line_id"`
	Kind         string `json:"kind"`
	Model        string `json:"model,omitempty"`
	Description  string `json:"description"`
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostNano     int64  `json:"cost_nano"`
	ChargeNano   int64  `json:"charge_nano"`
	AmountCents  int64  `json:"amount_cents"`
	RoundingNano int64  `json:"rounding_nano"`
}

func mapInvoice(inv invoicing.Invoice) invoiceDTO {
	amount := billing.NanoUSD(inv.AmountCents) * billing.NanoPerCent
	out := invoiceDTO{ID: inv.ID, Period: inv.Period, Status: string(inv.Status), AmountNano: int64(amount), AmountUSD: amount.USDString(),
		AmountCents: inv.AmountCents, CostNano: int64(inv.Cost), CostUSD: inv.Cost.USDString(), ChargeNano: int64(inv.Charge),
		RoundingNano: int64(inv.Rounding), Number: inv.Number, HostedURL: inv.HostedURL, StripeInvoiceID: inv.StripeInvoiceID,
		Lines: []invoiceLine{}, CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
	for _, l := range inv.Lines {
		out.Lines = append(out.Lines, invoiceLine{LineID: l.LineID, Kind: string(l.Kind), Model: l.Model, Description: l.Description,
			Requests: l.Requests, InputTokens: l.InputTokens, OutputTokens: l.OutputTokens, CostNano: int64(l.Cost),
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
	Job worker.JobView `json:"job"`
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
	res, err := iv.client.Insert(c.Request.Context(), worker.InvoiceRunArgs{TenantID: string(in.TenantID), Period: in.Period}, nil)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, runInvoiceResponse{Job: worker.MapJob(res.Job), Duplicate: res.UniqueSkippedAsDuplicate})
	return nil
}
