package tenants

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

// WithLoggedPrincipal is one layer doing the work of WithPrincipal and
// logging.WithTenantID: the principal, the tenant id in log records, the
// parent's other values and its cancellation all come through.
func TestWithLoggedPrincipal(t *testing.T) {
	p := NewPrincipal(Tenant{ID: "t_1"}, PrincipalAPIKey, "key_1")
	parent, cancel := context.WithCancel(logging.WithRequestID(context.Background(), "req_1"))
	ctx := WithLoggedPrincipal(parent, p)

	got, ok := PrincipalFrom(ctx)
	require.True(t, ok)
	require.Equal(t, p, got)
	require.Equal(t, "req_1", logging.RequestID(ctx))

	var out bytes.Buffer
	logging.New(&out, "info", "text").InfoContext(ctx, "hello")
	require.Contains(t, out.String(), "request_id=req_1")
	require.Contains(t, out.String(), "tenant_id=t_1")

	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-child.Done()
	require.ErrorIs(t, ctx.Err(), context.Canceled)
}
