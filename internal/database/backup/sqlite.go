package backup

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// backupStampLayout names backup folders; names sort in time order.
const backupStampLayout = "20060102T150405Z"

// manifestName is the file that marks a complete backup folder.
const manifestName = "manifest.json"

// Manifest describes one backup folder.
type Manifest struct {
	CreatedAt time.Time `json:"created_at"`
	// Kind is "sqlite" or "postgres".
	Kind string `json:"kind"`
	// Files are the backup's files, relative to its folder.
	Files []string `json:"files"`
	// ControlFile is the control database's file name ("tollgate.db") for SQLite.
	ControlFile string `json:"control_file,omitempty"`
}

// SQLiteBackupInput is what BackupSQLite copies and where.
type SQLiteBackupInput struct {
	// ControlPath is the control database file (data/tollgate.db).
	ControlPath string
	// DataDir holds tenants/t_*.db.
	DataDir string
	// Dest is the folder receiving the timestamped backup folder.
	Dest string
	// Keep is how many backup folders to keep, newest first; 0 keeps all.
	Keep int
	// Now names the folder.
	Now time.Time
}

// BackupSQLite copies the control database and every tenant file with VACUUM
// INTO (a consistent snapshot, even while the server writes) into
// Dest/<UTC timestamp>/, built under a temporary name and renamed into place, so
// a folder with a manifest is always complete. It then removes all but the newest
// Keep backups and returns the new folder.
func BackupSQLite(ctx context.Context, in SQLiteBackupInput) (string, error) {
	stamp := in.Now.UTC().Format(backupStampLayout)
	final := filepath.Join(in.Dest, stamp)
	tmp := filepath.Join(in.Dest, ".tmp-"+stamp)
	if err := os.MkdirAll(filepath.Join(tmp, "tenants"), database.DirMode); err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	m := Manifest{CreatedAt: in.Now.UTC(), Kind: "sqlite", ControlFile: filepath.Base(in.ControlPath)}
	if err := vacuumInto(ctx, in.ControlPath, filepath.Join(tmp, m.ControlFile)); err != nil {
		return "", fmt.Errorf("back up %s: %w", in.ControlPath, err)
	}
	m.Files = append(m.Files, m.ControlFile)
	tenantFiles, err := filepath.Glob(filepath.Join(in.DataDir, "tenants", "t_*.db"))
	if err != nil {
		return "", err
	}
	sort.Strings(tenantFiles)
	for _, f := range tenantFiles {
		rel := filepath.Join("tenants", filepath.Base(f))
		if err := vacuumInto(ctx, f, filepath.Join(tmp, rel)); err != nil {
			return "", fmt.Errorf("back up %s: %w", f, err)
		}
		m.Files = append(m.Files, rel)
	}
	if err := writeManifest(tmp, m); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, PruneBackups(in.Dest, in.Keep)
}

// vacuumInto writes a compacted, consistent copy of the SQLite file src to dst.
func vacuumInto(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	// VACUUM INTO accepts an empty file: creating it first gives the copy our mode
	// instead of SQLite's default (world-readable under the usual umask).
	if err := createPrivate(dst); err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", database.SQLiteDSN(src))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", dst)
	return err
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), b, database.FileMode)
}

// ReadManifest reads a backup folder's manifest; a folder without one is not a
// complete backup.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, errkind.Wrap(errkind.Invalid, err, "%s is not a Tollgate backup folder (no %s)", dir, manifestName)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errkind.Wrap(errkind.Invalid, err, "%s: bad %s", dir, manifestName)
	}
	return m, nil
}

// ListBackups returns the complete backup folders under dest, newest first.
func ListBackups(dest string) ([]string, error) {
	entries, err := os.ReadDir(dest)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := time.Parse(backupStampLayout, e.Name()); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dest, e.Name(), manifestName)); err != nil {
			continue
		}
		out = append(out, filepath.Join(dest, e.Name()))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, nil
}

// PruneBackups removes all but the newest keep backup folders; keep 0 keeps all.
func PruneBackups(dest string, keep int) error {
	if keep <= 0 {
		return nil
	}
	all, err := ListBackups(dest)
	if err != nil {
		return err
	}
	for _, dir := range all[min(keep, len(all)):] {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	return nil
}

// createPrivate creates an empty file with database.FileMode (truncating one left
// by an interrupted run).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, database.FileMode)
	if err != nil {
		return err
	}
	return f.Close()
}
