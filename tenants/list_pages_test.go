package tenants

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func TestTenantPagesWalkEveryTenantOnce(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			for i := range 7 {
				_, err := b.reg.Create(t.Context(), CreateInput{Name: fmt.Sprintf("Team %02d", i)})
				require.NoError(t, err)
			}
			_, err := b.reg.Create(t.Context(), CreateInput{Name: "100%_special"})
			require.NoError(t, err)

			seen := map[string]bool{}
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 10)
				p, err := b.reg.Page(t.Context(), PageInput{Limit: 3, Cursor: cursor})
				require.NoError(t, err)
				for _, tn := range p.Tenants {
					require.False(t, seen[tn.Slug])
					seen[tn.Slug] = true
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			require.Len(t, seen, 8)

			p, err := b.reg.Page(t.Context(), PageInput{Query: "TEAM 0"})
			require.NoError(t, err)
			require.Len(t, p.Tenants, 7)
			// LIKE wildcards in the query are literal characters.
			p, err = b.reg.Page(t.Context(), PageInput{Query: "%"})
			require.NoError(t, err)
			require.Len(t, p.Tenants, 1)
			_, err = b.reg.Page(t.Context(), PageInput{Cursor: "!!not-base64!!"})
			require.ErrorIs(t, err, errkind.Invalid)
		})
	}
}
