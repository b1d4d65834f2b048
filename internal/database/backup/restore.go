package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
//
// The manifest is data from a folder anyone may have handed over: every path it
// lists must stay inside the backup folder and, restored, inside the data folder.
// Absolute paths, "..", and symlinks leading out of either folder are refused
// before anything is written.
func RestoreSQLite(ctx context.Context, in RestoreInput) ([]string, error) {
	m, err := ReadManifest(in.From)
	if err != nil {
		return nil, err
	}
	if m.Kind != "sqlite" {
		return nil, errkind.New(errkind.Invalid, "%s is a %s backup; restore it with pg_restore", in.From, m.Kind)
	}
	if err := checkManifestPaths(in.From, m); err != nil {
		return nil, err
	}
	unlock, err := LockDataDir(in.DataDir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	from, err := os.OpenRoot(in.From)
	if err != nil {
		return nil, err
	}
	defer from.Close()
	data, err := os.OpenRoot(in.DataDir)
	if err != nil {
		return nil, err
	}
	defer data.Close()
	if err := os.MkdirAll(filepath.Dir(in.ControlPath), database.DirMode); err != nil {
		return nil, err
	}
	controlDir, err := os.OpenRoot(filepath.Dir(in.ControlPath))
	if err != nil {
		return nil, err
	}
	defer controlDir.Close()
	for _, rel := range m.Files {
		// Root.Stat follows symlinks only while they stay inside the backup folder.
		st, err := from.Stat(rel)
		if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "backup %s is incomplete or lists a file outside it: %s", in.From, rel)
		}
		if !st.Mode().IsRegular() {
			return nil, errkind.New(errkind.Invalid, "backup %s: %s is not a regular file", in.From, rel)
		}
		if rel != m.ControlFile {
			if err := checkRestoreTarget(data, rel); err != nil {
				return nil, errkind.Wrap(errkind.Invalid, err, "backup %s: %s would be restored outside the data folder %s", in.From, rel, in.DataDir)
			}
		}
	}
	var restored []string
	for _, rel := range m.Files {
		if err := ctx.Err(); err != nil {
			return restored, err
		}
		dstRoot, dstRel, dst := data, rel, filepath.Join(in.DataDir, rel)
		if rel == m.ControlFile {
			dstRoot, dstRel, dst = controlDir, filepath.Base(in.ControlPath), in.ControlPath
		}
		if err := replaceFile(from, rel, dstRoot, dstRel); err != nil {
			return restored, fmt.Errorf("restore %s: %w", rel, err)
		}
		restored = append(restored, dst)
	}
	return restored, nil
}

// checkManifestPaths refuses a manifest whose paths are not plain relative paths
// inside the backup folder, or whose control file is not one of its files at the
// folder's top.
func checkManifestPaths(from string, m Manifest) error {
	if m.ControlFile == "" || m.ControlFile != filepath.Base(m.ControlFile) || !filepath.IsLocal(m.ControlFile) {
		return errkind.New(errkind.Invalid, "backup %s: control_file %q must be a file name in the backup folder", from, m.ControlFile)
	}
	hasControl := false
	for _, rel := range m.Files {
		if !filepath.IsLocal(rel) {
			return errkind.New(errkind.Invalid, "backup %s: manifest lists %q, which is not a relative path inside the backup folder; refusing to restore", from, rel)
		}
		hasControl = hasControl || rel == m.ControlFile
	}
	if !hasControl {
		return errkind.New(errkind.Invalid, "backup %s: control_file %q is not among its files", from, m.ControlFile)
	}
	return nil
}

// checkRestoreTarget makes sure restoring rel under data stays inside it: its
// parent folders (existing ones may be symlinks) resolve inside the root.
func checkRestoreTarget(data *os.Root, rel string) error {
	dir := filepath.Dir(rel)
	if dir == "." {
		return nil
	}
	if _, err := data.Stat(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// replaceFile copies src (in the backup root) to dst (in the target root) by way
// of a synced temporary file and a rename; neither path can leave its root.
func replaceFile(srcRoot *os.Root, src string, dstRoot *os.Root, dst string) error {
	if err := dstRoot.MkdirAll(filepath.Dir(dst), database.DirMode); err != nil {
		return err
	}
	in, err := srcRoot.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".restore-tmp"
	out, err := dstRoot.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, database.FileMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		_ = dstRoot.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		_ = dstRoot.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// A WAL left from the old database would be replayed into the new one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := dstRoot.Remove(dst + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return dstRoot.Rename(tmp, dst)
}
