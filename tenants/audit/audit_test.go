package audit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLiftDetails: the reserved keys leave Details for their fields, a key's
// "name" names an id target, and an entry without them keeps its details.
func TestLiftDetails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		target      string
		details     map[string]any
		wantName    string
		wantBefore  map[string]any
		wantAfter   map[string]any
		wantDetails map[string]any
	}{
		{
			name:   "change with name",
			target: "bud_1",
			details: map[string]any{"scope": "key", DetailTargetName: "key web, month",
				DetailBefore: map[string]any{"limit_usd": "5.00"}, DetailAfter: map[string]any{"limit_usd": "8.00"}},
			wantName: "key web, month", wantBefore: map[string]any{"limit_usd": "5.00"}, wantAfter: map[string]any{"limit_usd": "8.00"},
			wantDetails: map[string]any{"scope": "key"},
		},
		{
			name: "key name detail", target: "key_1", details: map[string]any{"name": "web", "prefix": "tg_ab"},
			wantName: "web", wantDetails: map[string]any{"name": "web", "prefix": "tg_ab"},
		},
		{
			name: "email target", target: "ana@example.com", details: map[string]any{"role": "admin"},
			wantDetails: map[string]any{"role": "admin"},
		},
		{
			name: "malformed reserved keys stay", target: "x", details: map[string]any{DetailBefore: "oops", DetailTargetName: 3},
			wantDetails: map[string]any{DetailBefore: "oops", DetailTargetName: 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := AuditEntry{Target: tc.target, Details: tc.details}
			e.liftDetails()
			require.Equal(t, tc.wantName, e.TargetName)
			require.Equal(t, tc.wantBefore, e.Before)
			require.Equal(t, tc.wantAfter, e.After)
			require.Equal(t, tc.wantDetails, e.Details)
		})
	}
}
