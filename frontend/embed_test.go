package frontend

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBuiltMatchesBundle checks that Built agrees with what is embedded, on a
// clean checkout (placeholder only) as well as after `npm run build`.
func TestBuiltMatchesBundle(t *testing.T) {
	t.Parallel()

	_, err := fs.Stat(Dist, "dist/.gitkeep")
	require.NoError(t, err, "dist/.gitkeep must always be embedded")

	_, err = fs.Stat(Dist, "dist/index.html")
	require.Equal(t, err == nil, Built())
}
