package invoicing

import (
	"context"
	"errors"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Invoice is a stored invoice of one tenant and period.
type Invoice struct {
	ID     string        `json:"id"`
	Period string        `json:"period"`
	Status InvoiceStatus `json:"status"`
	// StripeInvoiceID is Stripe's id ("in_…"), empty until the invoice is created there.
	StripeInvoiceID string `json:"stripe_invoice_id"`
	// Number is Stripe's invoice number, set at finalization.
	Number string `json:"number"`
	// Cost is the provider cost of the period, nano-USD.
	Cost billing.NanoUSD `json:"cost_nano"`
	// Charge is the exact charge before rounding, nano-USD.
	Charge billing.NanoUSD `json:"charge_nano"`
	// AmountCents is the amount due: the sum of the lines' rounded amounts, cents.
	AmountCents int64 `json:"amount_cents"`
	// Rounding is AmountCents in nano-USD minus Charge, nano-USD.
	Rounding billing.NanoUSD `json:"rounding_nano"`
	// HostedURL is the customer's payment page, set at finalization.
	HostedURL string    `json:"hosted_url"`
	Lines     []Line    `json:"lines,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Line is a stored invoice line.
type Line struct {
	LineID       string           `json:"line_id"`
	Kind         invoice.LineKind `json:"kind"`
	Model        string           `json:"model,omitempty"`
	Description  string           `json:"description"`
	Requests     int64            `json:"requests"`
	InputTokens  int64            `json:"input_tokens"`
	CachedTokens int64            `json:"cached_tokens"`
	// CacheWriteTokens are input tokens written to a prompt cache.
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	OutputTokens     int64 `json:"output_tokens"`
	// Cost is the provider cost of the line, nano-USD.
	Cost billing.NanoUSD `json:"cost_nano"`
	// Charge is the exact charge, nano-USD.
	Charge billing.NanoUSD `json:"charge_nano"`
	// AmountCents is Charge rounded half-up to cents: what Stripe bills.
	AmountCents int64 `json:"amount_cents"`
	// Rounding is AmountCents in nano-USD minus Charge, nano-USD.
	Rounding billing.NanoUSD `json:"rounding_nano"`
	// StripeItemID is the Stripe invoice item ("ii_…"); empty until sent.
	StripeItemID string `json:"stripe_item_id"`
}

type invoiceRow struct {
	ID              string `gorm:"primaryKey"`
	Period          string
	Status          string
	StripeInvoiceID string
	Number          string
	CostNano        int64
	ChargeNano      int64
	AmountCents     int64
	RoundingNano    int64
	HostedURL       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (invoiceRow) TableName() string { return "invoices" }

type lineRow struct {
	InvoiceID    string `gorm:"primaryKey"`
	LineID       string `gorm:"primaryKey"`
	Description  string
	Requests     int64
	InputTokens  int64
	OutputTokens int64
	CostNano     int64
	ChargeNano   int64
	AmountCents  int64
	RoundingNano int64
	Kind         string
	Model        string
	CachedTokens int64
	// CacheWriteTokens is the column added by tenant migration 00005.
	CacheWriteTokens int64
	Position         int64
	StripeItemID     string
}

func (lineRow) TableName() string { return "invoice_lines" }

func mapInvoice(r invoiceRow, lines []lineRow) Invoice {
	inv := Invoice{ID: r.ID, Period: r.Period, Status: InvoiceStatus(r.Status), StripeInvoiceID: r.StripeInvoiceID, Number: r.Number,
		Cost: billing.NanoUSD(r.CostNano), Charge: billing.NanoUSD(r.ChargeNano), AmountCents: r.AmountCents,
		Rounding: billing.NanoUSD(r.RoundingNano), HostedURL: r.HostedURL, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, l := range lines {
		inv.Lines = append(inv.Lines, Line{LineID: l.LineID, Kind: invoice.LineKind(l.Kind), Model: l.Model, Description: l.Description,
			Requests: l.Requests, InputTokens: l.InputTokens, CachedTokens: l.CachedTokens, CacheWriteTokens: l.CacheWriteTokens, OutputTokens: l.OutputTokens,
			Cost: billing.NanoUSD(l.CostNano), Charge: billing.NanoUSD(l.ChargeNano), AmountCents: l.AmountCents,
			Rounding: billing.NanoUSD(l.RoundingNano), StripeItemID: l.StripeItemID})
	}
	return inv
}

// getByPeriod returns the stored invoice of the period with its lines, or NotFound.
func getByPeriod(ctx context.Context, h *tenants.Handle, period string) (Invoice, error) {
	var row invoiceRow
	var lines []lineRow
	err := h.Read(ctx, func(db *gorm.DB) error {
		if err := db.Where("period = ?", period).Take(&row).Error; err != nil {
			return err
		}
		return db.Where("invoice_id = ?", row.ID).Order("position, line_id").Find(&lines).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Invoice{}, errkind.New(errkind.NotFound, "no invoice for period %s", period)
	}
	if err != nil {
		return Invoice{}, err
	}
	return mapInvoice(row, lines), nil
}

// createDraft stores inv as a draft with its lines in one transaction. When a
// concurrent run stored the period first, it returns that run's invoice instead.
func createDraft(ctx context.Context, h *tenants.Handle, inv invoice.Invoice, now time.Time) (Invoice, error) {
	status := InvoiceStatusDraft
	if inv.Empty() {
		status = InvoiceStatusEmpty
	}
	row := invoiceRow{ID: "inv_" + ulidLower(), Period: inv.Period, Status: string(status), CostNano: int64(inv.ProviderCost),
		ChargeNano: int64(inv.Charge), AmountCents: inv.TotalCents, RoundingNano: int64(inv.RoundingNano), CreatedAt: now, UpdatedAt: now}
	lines := make([]lineRow, len(inv.Lines))
	for i, l := range inv.Lines {
		lines[i] = lineRow{InvoiceID: row.ID, LineID: l.ID, Description: l.Description, Requests: l.Requests, InputTokens: l.InputTokens,
			OutputTokens: l.OutputTokens, CostNano: int64(l.ProviderCost), ChargeNano: int64(l.Charge), AmountCents: l.AmountCents,
			RoundingNano: int64(l.RoundingNano), Kind: string(l.Kind), Model: l.Model, CachedTokens: l.CachedInputTokens,
			CacheWriteTokens: l.CacheWriteInputTokens, Position: int64(i)}
	}
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if len(lines) == 0 {
			return nil
		}
		return tx.Create(&lines).Error
	})
	if database.IsUniqueViolation(err) {
		return getByPeriod(ctx, h, inv.Period)
	}
	if err != nil {
		return Invoice{}, err
	}
	return mapInvoice(row, lines), nil
}

// setItemID records the Stripe item of one line, the moment Stripe returns it.
func setItemID(ctx context.Context, h *tenants.Handle, invoiceID, lineID, itemID string) error {
	return h.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&lineRow{}).Where("invoice_id = ? AND line_id = ?", invoiceID, lineID).
			Update("stripe_item_id", itemID).Error
	})
}

// update writes fields of the invoice row and bumps updated_at.
func update(ctx context.Context, h *tenants.Handle, invoiceID string, fields map[string]any, now time.Time) error {
	fields["updated_at"] = now
	return h.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&invoiceRow{}).Where("id = ?", invoiceID).Updates(fields).Error
	})
}

// List returns the tenant's invoices, newest period first, without lines unless
// withLines is set.
func List(ctx context.Context, h *tenants.Handle, withLines bool) ([]Invoice, error) {
	var rows []invoiceRow
	var lines []lineRow
	err := h.Read(ctx, func(db *gorm.DB) error {
		if err := db.Order("period DESC").Find(&rows).Error; err != nil {
			return err
		}
		if !withLines {
			return nil
		}
		return db.Order("invoice_id, position, line_id").Find(&lines).Error
	})
	if err != nil {
		return nil, err
	}
	byInvoice := map[string][]lineRow{}
	for _, l := range lines {
		byInvoice[l.InvoiceID] = append(byInvoice[l.InvoiceID], l)
	}
	out := make([]Invoice, len(rows))
	for i, r := range rows {
		out[i] = mapInvoice(r, byInvoice[r.ID])
	}
	return out, nil
}

// Get returns the tenant's invoice of period with its lines, or NotFound.
func Get(ctx context.Context, h *tenants.Handle, period string) (Invoice, error) {
	if !invoice.ValidPeriod(period) {
		return Invoice{}, errkind.New(errkind.Invalid, "period %q: use YYYY-MM", period)
	}
	return getByPeriod(ctx, h, period)
}

func ulidLower() string {
	s := ulid.Make().String()
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
