package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSelfHostMasterKeyIsPrivate: the generated master key is written 0600 into a
// data directory created 0700, and read back the same on the next start.
func TestSelfHostMasterKeyIsPrivate(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	key, err := selfHostMasterKey(dataDir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(key.Reveal()), 32)
	for path, mode := range map[string]os.FileMode{dataDir: 0o700, filepath.Join(dataDir, "master.key"): 0o600} {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, st.Mode().Perm(), path)
	}
	again, err := selfHostMasterKey(dataDir)
	require.NoError(t, err)
	require.Equal(t, key, again)
}
