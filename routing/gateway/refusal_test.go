package gateway

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestRefusalCarriesRetryAfter: a rate-limited or meter-unavailable refusal is an
// errkind.Error with the delay the API sends as Retry-After (at least a second),
// and its message is the one clients have always seen.
func TestRefusalCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	err := refusalError(meter.Decision{Reason: meter.DecisionReasonRateLimited,
		Refusal: &meter.Refusal{Rate: meter.RateKindTokens, RetryAfter: 17 * time.Second}}, 0, Caller{})
	require.ErrorIs(t, err, errkind.RateLimited)
	require.Equal(t, 17*time.Second, errkind.RetryAfterOf(err))
	require.Equal(t, "this API key's tokens-per-minute limit is used up; retry after 17s", err.Error())

	err = refusalError(meter.Decision{Reason: meter.DecisionReasonRateLimited}, 0, Caller{})
	require.Equal(t, time.Second, errkind.RetryAfterOf(err), "no hint: one second")

	err = refusalError(meter.Decision{Reason: meter.DecisionReasonMeterUnavailable,
		Refusal: &meter.Refusal{RetryAfter: 3 * time.Second}}, 0, Caller{})
	require.ErrorIs(t, err, errkind.Unavailable)
	require.Equal(t, 3*time.Second, errkind.RetryAfterOf(err))
}
