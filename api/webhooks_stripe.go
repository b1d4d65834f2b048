package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// StripeWebhook receives Stripe's invoice events.
type StripeWebhook struct {
	svc *invoicing.Service
	// secret is STRIPE_WEBHOOK_SECRET ("whsec_…"); empty refuses every delivery.
	secret string
}

// NewStripeWebhook returns the webhook endpoint.
func NewStripeWebhook(svc *invoicing.Service, secret string) *StripeWebhook {
	return &StripeWebhook{svc: svc, secret: secret}
}

// Register adds POST /webhooks/stripe. It has no session: the Stripe-Signature
// header, verified against the endpoint secret, is the authentication.
func (w *StripeWebhook) Register(e *gin.Engine) {
	e.POST("/webhooks/stripe", h(w.receive))
}

type stripeWebhookResponse struct {
	Received bool   `json:"received"`
	Applied  bool   `json:"applied"`
	Status   string `json:"status,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// receive verifies the event and applies it. A bad signature is 400 and changes
// nothing; events Tollgate does not track answer 200 so Stripe stops resending.
func (w *StripeWebhook) receive(c *gin.Context) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return errkind.New(errkind.TooLarge, "request body is over the %d-byte limit", maxErr.Limit)
		}
		return &errkind.Error{Kind: errkind.Invalid, Code: CodeMalformedBody, Message: "cannot read the request body"}
	}
	up, err := stripe.ParseWebhook(body, c.GetHeader("Stripe-Signature"), w.secret)
	if err != nil {
		return &errkind.Error{Kind: errkind.Invalid, Code: CodeMalformedBody, Message: errkind.PublicMessage(err)}
	}
	res, err := w.svc.ApplyWebhook(c.Request.Context(), up)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, stripeWebhookResponse{Received: true, Applied: res.Applied, Status: string(res.Status), Reason: res.Reason})
	return nil
}
