package stripe

import (
	"errors"
	"net/http"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// mapError turns a stripe-go error into one of our kinds, keeping the Stripe
// error as the hidden cause (errors.As(err, new(*stripego.Error)) still works).
//
//	Stripe says                              kind          why
//	401 / 403 (bad or restricted key)        Unavailable   operator must fix STRIPE_API_KEY
//	429 rate limit                           Unavailable   retry later
//	idempotency_error (key reused, new body) Conflict      a rerun changed its amounts
//	invalid_request_error, resource_missing  NotFound      the customer/invoice is gone
//	invalid_request_error, card_error        Invalid       the request itself is wrong
//	api_error, 5xx, network, anything else   Unavailable   Stripe cannot serve now
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *stripego.Error
	if !errors.As(err, &se) {
		return errkind.Wrap(errkind.Unavailable, err, "stripe %s: request failed", op)
	}
	switch {
	case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		return errkind.Wrap(errkind.Unavailable, err, "stripe %s: Stripe rejected the API key (HTTP %d); check STRIPE_API_KEY", op, se.HTTPStatusCode)
	case se.HTTPStatusCode == http.StatusTooManyRequests || se.Code == stripego.ErrorCodeRateLimit:
		return errkind.Wrap(errkind.Unavailable, err, "stripe %s: rate limited by Stripe, retry later", op)
	case se.Type == stripego.ErrorTypeIdempotency:
		return errkind.Wrap(errkind.Conflict, err, "stripe %s: idempotency key reused with different parameters", op)
	case se.Type == stripego.ErrorTypeInvalidRequest && se.Code == stripego.ErrorCodeResourceMissing:
		return errkind.Wrap(errkind.NotFound, err, "stripe %s: %s", op, se.Msg)
	case se.Type == stripego.ErrorTypeInvalidRequest || se.Type == stripego.ErrorTypeCard:
		return errkind.Wrap(errkind.Invalid, err, "stripe %s: %s", op, se.Msg)
	}
	return errkind.Wrap(errkind.Unavailable, err, "stripe %s: Stripe unavailable (HTTP %d)", op, se.HTTPStatusCode)
}
