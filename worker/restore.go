package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// RestoreInput names a SQLite backup folder and where to restore it.
type RestoreInput struct {
	// From is a backup folder (with its manifest).
	From string
	// ControlPath is the control database file to replace (data/tollgate.db).
	ControlPath string
	// DataDir holds tenants/t_*.db.
	DataDir string
}

// RestoreSQLite replaces the control database and the tenant files with the
// backup's. It refuses while a tollgate process holds the data folder (serve and
// worker hold a shared lock; restore needs it exclusively). Each file is copied
// next to its target, synced, its stale -wal/-shm removed, then renamed over the
// target, so every file is either the old or the new one. Tenant files created
// after the backup stay on disk but are unreachable (their tenant row is gone).
func RestoreSQLite(ctx context.Context, in RestoreInput) ([]string, error) {
	m, err := ReadManifest(in.From)
	if err != nil {
		return nil, err
	}
	if m.Kind != "sqlite" {
		return nil, errkind.New(errkind.Invalid, "%s is a %s backup; restore it with pg_restore", in.From, m.Kind)
	}
	unlock, err := LockDataDir(in.DataDir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, rel := range m.Files {
		if _, err := os.Stat(filepath.Join(in.From, rel)); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "backup %s is incomplete: %s missing", in.From, rel)
		}
	}
	var restored []string
	for _, rel := range m.Files {
		if err := ctx.Err(); err != nil {
			return restored, err
		}
		dst := filepath.Join(in.DataDir, rel)
		if rel == m.ControlFile {
			dst = in.ControlPath
		}
		if err := replaceFile(filepath.Join(in.From, rel), dst); err != nil {
			return restored, fmt.Errorf("restore %s: %w", rel, err)
		}
		restored = append(restored, dst)
	}
	return restored, nil
}

// replaceFile copies src to dst by way of a synced temporary file and a rename.
func replaceFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), database.DirMode); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".restore-tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, database.FileMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// A WAL left from the old database would be replayed into the new one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return os.Rename(tmp, dst)
}
