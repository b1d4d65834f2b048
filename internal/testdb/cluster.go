package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SecondCluster starts a throwaway Postgres cluster (initdb into a temp directory,
// pg_ctl on a free loopback port, fsync off) for tests that need tenants on two
// clusters, and returns the URL of its postgres database. It is stopped and
// deleted when the test ends. Without initdb/pg_ctl it skips locally and fails
// under CI=true. As root, the cluster runs as the postgres user (initdb refuses
// root).
func SecondCluster(t testing.TB) string {
	t.Helper()
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		Unavailable(t, "initdb (a second Postgres cluster)", err)
	}
	pgctl, err := exec.LookPath("pg_ctl")
	if err != nil {
		Unavailable(t, "pg_ctl (a second Postgres cluster)", err)
	}
	// Not t.TempDir: its parents are private to the test's user, and the server
	// may run as another one.
	dir, err := os.MkdirTemp("", "tollgate-pg-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	run := func(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			Unavailable(t, "the postgres user (initdb refuses to run as root)", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("chown: %v", err)
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := run(pgctl, "-w", "-D", data, "-l", filepath.Join(dir, "log"), "start", "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() { _ = run(pgctl, "-D", data, "-m", "immediate", "stop").Run() })
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("open second cluster: %v", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("second cluster does not answer: %v", err)
	}
	return url
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
