package stripe_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestUnknownParamIsRejected shows stripe-mock validates requests against
// Stripe's spec: a parameter Stripe does not know is a 400, which we report as
// Invalid. It goes through the raw stripe-go client because our methods cannot
// send an unknown parameter.
func TestUnknownParamIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, mockURL(t))

	newParams := func() *stripego.CustomerParams {
		p := &stripego.CustomerParams{Name: stripego.String("Acme")}
		p.Context = t.Context()
		p.SetIdempotencyKey("tg-test-unknown-param")
		return p
	}
	params := newParams()
	params.AddExtra("tollgate_not_a_stripe_param", "x")
	_, err := b.client.RawCustomers().New(params)
	err = stripe.MapError("create customer", err)
	require.ErrorIs(t, err, errkind.Invalid)
	var se *stripego.Error
	require.True(t, errors.As(err, &se))
	require.Equal(t, http.StatusBadRequest, se.HTTPStatusCode)
	require.Contains(t, se.Msg, "additional properties are not allowed")

	// The same request without the extra parameter passes.
	_, err = b.client.RawCustomers().New(newParams())
	require.NoError(t, err)

	calls := b.rec.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, http.StatusBadRequest, calls[0].Status)
	require.Equal(t, http.StatusOK, calls[1].Status)
}
