package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestRestoreRefusesPathsOutsideItsFolders: a crafted manifest cannot make
// `tollgate restore` read outside the backup folder or write outside the data
// folder: absolute paths, "..", and symlinks leading out are refused before
// anything is written.
func TestRestoreRefusesPathsOutsideItsFolders(t *testing.T) {
	t.Parallel()
	type world struct{ backup, data, outside string }
	for _, tc := range []struct {
		name  string
		files []string
		ctl   string
		// prepare adds symlinks or files to the world before the restore.
		prepare func(t *testing.T, w world)
	}{
		{name: "absolute path", files: []string{"tollgate.db", "/etc/passwd"}},
		{name: "absolute path into the outside", files: []string{"tollgate.db", "{OUT}/secret.txt"}},
		// The folders are siblings: "../outside/secret.txt" exists, and restored
		// under the data folder it would overwrite it.
		{name: "dot-dot", files: []string{"tollgate.db", "../outside/secret.txt"}},
		{name: "dot-dot inside tenants", files: []string{"tollgate.db", "tenants/../../outside/secret.txt"}},
		{name: "control file with a path", files: []string{"../outside/secret.txt"}, ctl: "../outside/secret.txt"},
		{name: "control file not listed", files: []string{"tenants/t_a.db"}, ctl: "tollgate.db"},
		{name: "backup file is a symlink out", files: []string{"tollgate.db", "tenants/t_a.db"},
			prepare: func(t *testing.T, w world) {
				require.NoError(t, os.MkdirAll(filepath.Join(w.backup, "tenants"), 0o700))
				require.NoError(t, os.Symlink(filepath.Join(w.outside, "secret.txt"), filepath.Join(w.backup, "tenants", "t_a.db")))
			}},
		{name: "backup folder is a symlink out", files: []string{"tollgate.db", "tenants/t_a.db"},
			prepare: func(t *testing.T, w world) {
				require.NoError(t, os.WriteFile(filepath.Join(w.outside, "t_a.db"), []byte("x"), 0o600))
				require.NoError(t, os.Symlink(w.outside, filepath.Join(w.backup, "tenants")))
			}},
		{name: "data folder's tenants is a symlink out", files: []string{"tollgate.db", "tenants/t_a.db"},
			prepare: func(t *testing.T, w world) {
				require.NoError(t, os.MkdirAll(filepath.Join(w.backup, "tenants"), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(w.backup, "tenants", "t_a.db"), []byte("backup"), 0o600))
				require.NoError(t, os.Symlink(w.outside, filepath.Join(w.data, "tenants")))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			w := world{backup: filepath.Join(root, "backup"), data: filepath.Join(root, "data"), outside: filepath.Join(root, "outside")}
			for _, d := range []string{w.backup, w.data, w.outside} {
				require.NoError(t, os.Mkdir(d, 0o700))
			}
			require.NoError(t, os.WriteFile(filepath.Join(w.backup, "tollgate.db"), []byte("backup"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(w.data, "tollgate.db"), []byte("live"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(w.outside, "secret.txt"), []byte("secret"), 0o600))
			if tc.prepare != nil {
				tc.prepare(t, w)
			}
			files := make([]string, len(tc.files))
			for i, f := range tc.files {
				files[i] = filepath.FromSlash(replaceOut(f, w.outside))
			}
			ctl := tc.ctl
			if ctl == "" {
				ctl = "tollgate.db"
			}
			require.NoError(t, writeManifest(w.backup, Manifest{CreatedAt: time.Now().UTC(), Kind: "sqlite", Files: files, ControlFile: ctl}))
			outsideBefore := listTree(t, w.outside)

			_, err := RestoreSQLite(t.Context(), RestoreInput{From: w.backup, ControlPath: filepath.Join(w.data, "tollgate.db"), DataDir: w.data})
			require.ErrorIs(t, err, errkind.Invalid)
			live, err := os.ReadFile(filepath.Join(w.data, "tollgate.db"))
			require.NoError(t, err)
			require.Equal(t, "live", string(live), "nothing was restored")
			require.Equal(t, outsideBefore, listTree(t, w.outside), "nothing was written outside")
		})
	}

	// Sanity: the same kind of hand-made folder with plain paths restores.
	t.Run("plain paths", func(t *testing.T) {
		t.Parallel()
		backup, data := t.TempDir(), t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(backup, "tenants"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(backup, "tollgate.db"), []byte("backup"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(backup, "tenants", "t_a.db"), []byte("tenant"), 0o600))
		require.NoError(t, writeManifest(backup, Manifest{Kind: "sqlite", Files: []string{"tollgate.db", filepath.Join("tenants", "t_a.db")}, ControlFile: "tollgate.db"}))
		restored, err := RestoreSQLite(t.Context(), RestoreInput{From: backup, ControlPath: filepath.Join(data, "tollgate.db"), DataDir: data})
		require.NoError(t, err)
		require.Len(t, restored, 2)
		b, err := os.ReadFile(filepath.Join(data, "tenants", "t_a.db"))
		require.NoError(t, err)
		require.Equal(t, "tenant", string(b))
	})
}

func replaceOut(s, outside string) string {
	if len(s) >= 5 && s[:5] == "{OUT}" {
		return outside + s[5:]
	}
	return s
}

// listTree returns every path under root with its content, to compare before and after.
func listTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			out[path] = string(b)
		} else {
			out[path] = info.Mode().String()
		}
		return nil
	}))
	return out
}
