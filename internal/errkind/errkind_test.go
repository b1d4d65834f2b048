package errkind

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJoinInvalidListsEveryProblem(t *testing.T) {
	t.Parallel()
	require.NoError(t, JoinInvalid("invalid API key", nil))
	err := JoinInvalid("invalid API key", []error{errors.New("name is required"), errors.New("rpm_limit must be 0 (no limit) or positive")})
	require.ErrorIs(t, err, Invalid)
	require.Equal(t, "invalid API key: name is required; rpm_limit must be 0 (no limit) or positive", err.Error())
	require.Equal(t, err.Error(), PublicMessage(err))
}

func TestRetryAfterTravelsOnTheError(t *testing.T) {
	t.Parallel()
	sentinel := &Error{Kind: RateLimited, Code: "rate_limit_exceeded", Message: "slow down"}
	require.Zero(t, RetryAfterOf(sentinel))
	require.Zero(t, RetryAfterOf(errors.New("plain")))

	err := sentinel.WithRetryAfter(3 * time.Second)
	require.Zero(t, sentinel.RetryAfter, "the sentinel is not changed")
	require.ErrorIs(t, err, sentinel, "a copy with a delay still matches its sentinel")
	require.ErrorIs(t, err, RateLimited)
	require.Equal(t, "slow down", err.Error())
	require.Equal(t, 3*time.Second, RetryAfterOf(fmt.Errorf("wrapped: %w", err)))

	// The delay is found on a cause too, and another message is another error.
	outer := Wrap(Unavailable, err, "upstream busy")
	require.Equal(t, 3*time.Second, RetryAfterOf(outer))
	require.NotErrorIs(t, &Error{Kind: RateLimited, Code: "rate_limit_exceeded", Message: "other"}, sentinel)
}
