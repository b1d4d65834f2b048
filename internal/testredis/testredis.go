// Package testredis gives tests real Redis servers: a Redis Cluster (from
// TOLLGATE_TEST_REDIS_CLUSTER, or one it starts itself with scripts/redis-cluster.sh
// when the package's TestMain calls Main) and a standalone Redis (127.0.0.1:6379, or
// TOLLGATE_TEST_REDIS_URL). Tests isolate their keys with Prefix, never by flushing.
//
// When a server is unavailable the test is skipped with the reason, or fails when
// CI=true, so a CI run can never pass by skipping its Redis tests.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package (tests only; production config is read
// by internal/config).
const (
	// EnvCluster holds a comma-separated Redis Cluster seed list, "127.0.0.1:7000,...".
	EnvCluster = "TOLLGATE_TEST_REDIS_CLUSTER"
	// EnvStandalone holds a redis:// URL of a standalone server; default 127.0.0.1:6379.
	EnvStandalone = "TOLLGATE_TEST_REDIS_URL"
)

// own is the cluster this test binary started itself (only under Main).
var own struct {
	enabled bool
	once    sync.Once
	dir     string
	seeds   string
	err     error
}

// Main runs the package's tests and stops the cluster the helper may have started for
// them. Call it from TestMain: `func TestMain(m *testing.M) { testredis.Main(m) }`.
// Without it, Cluster only uses TOLLGATE_TEST_REDIS_CLUSTER, so that no test binary
// can leave redis-server processes behind.
func Main(m *testing.M) {
	own.enabled = true
	code := m.Run()
	if own.dir != "" {
		stop := exec.Command(scriptPath(), "stop", own.dir)
		stop.Stderr = os.Stderr
		if err := stop.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "testredis: stopping cluster in %s: %v\n", own.dir, err)
		}
		_ = os.RemoveAll(own.dir)
	}
	os.Exit(code)
}

// unavailable skips the test with the reason, or fails it under CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("testredis: %s (CI=true: a missing service fails the run)", msg)
	}
	t.Skipf("testredis: %s", msg)
}

// Seeds returns the cluster's seed addresses, starting the helper's own cluster on
// first use when allowed (see Main).
func Seeds(t testing.TB) []string {
	t.Helper()
	if s := strings.TrimSpace(os.Getenv(EnvCluster)); s != "" {
		return strings.Split(s, ",")
	}
	if !own.enabled {
		unavailable(t, "%s is unset and the package's TestMain does not call testredis.Main to start a cluster", EnvCluster)
	}
	own.once.Do(startOwn)
	if own.err != nil {
		unavailable(t, "starting a Redis Cluster: %v", own.err)
	}
	return strings.Split(own.seeds, ",")
}

func startOwn() {
	dir, err := os.MkdirTemp("", "tollgate-testredis-")
	if err != nil {
		own.err = err
		return
	}
	out, err := exec.Command(scriptPath(), "start", dir).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		own.err = fmt.Errorf("scripts/redis-cluster.sh start: %w: %s", err, stderr)
		// The script stops what it started on failure; the directory may still hold PIDs.
		_ = exec.Command(scriptPath(), "stop", dir).Run()
		_ = os.RemoveAll(dir)
		return
	}
	own.dir = dir
	own.seeds = strings.TrimSpace(string(out))
}

// scriptPath finds scripts/redis-cluster.sh by walking up to the module root.
func scriptPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return "scripts/redis-cluster.sh"
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "redis-cluster.sh")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "scripts/redis-cluster.sh"
		}
		dir = parent
	}
}

// Cluster returns a client of the test Redis Cluster, closed when the test ends.
// Keys the test writes under Prefix(t) are deleted at the end as well.
func Cluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c, _ := cluster(t, nil)
	return c
}

// Switch cuts a client off from Redis and reconnects it, to simulate an outage or a
// network partition without touching the shared servers.
type Switch struct{ down atomic.Bool }

// SetDown makes every open connection and new dial of the client fail (true), or
// lets the client reconnect (false).
func (s *Switch) SetDown(down bool) { s.down.Store(down) }

// Down reports whether the switch currently cuts the client off.
func (s *Switch) Down() bool { return s.down.Load() }

// ClusterWithSwitch is Cluster with a Switch that makes the client's connections fail.
func ClusterWithSwitch(t testing.TB) (*redis.ClusterClient, *Switch) {
	t.Helper()
	sw := &Switch{}
	c, _ := cluster(t, sw)
	return c, sw
}

func cluster(t testing.TB, sw *Switch) (*redis.ClusterClient, *Switch) {
	seeds := Seeds(t)
	opts := &redis.ClusterOptions{
		Addrs:        seeds,
		DialTimeout:  time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		MaxRetries:   2,
	}
	if sw != nil {
		opts.MaxRetries = 0
		opts.Dialer = switchDialer(sw)
	}
	c := redis.NewClusterClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "Redis Cluster at %s: %v", strings.Join(seeds, ","), err)
	}
	prefix := Prefix(t)
	t.Cleanup(func() {
		if sw != nil {
			sw.SetDown(false)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return deletePrefix(ctx, n, prefix)
		})
		_ = c.Close()
	})
	return c, sw
}

// Standalone returns a client of the standalone test Redis, closed when the test ends.
func Standalone(t testing.TB) *redis.Client {
	t.Helper()
	opts := &redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second}
	if u := os.Getenv(EnvStandalone); u != "" {
		parsed, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("testredis: %s: %v", EnvStandalone, err)
		}
		opts = parsed
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "standalone Redis at %s: %v", opts.Addr, err)
	}
	prefix := Prefix(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = deletePrefix(ctx, c, prefix)
		_ = c.Close()
	})
	return c
}

var prefixes sync.Map // test name -> prefix, so one test always gets the same prefix

// Prefix returns a key prefix unique to the test (and to this run), such as
// "tgtest:1f2e3d4c5b6a:". It contains no '{' or '}', so keys keep the hash tag that
// follows it; parallel tests and reruns never share keys.
func Prefix(t testing.TB) string {
	if p, ok := prefixes.Load(t); ok {
		return p.(string)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	p, _ := prefixes.LoadOrStore(t, "tgtest:"+hex.EncodeToString(b[:])+":")
	return p.(string)
}

func deletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		// Unlink one key at a time: keys under a prefix may span cluster slots.
		if err := c.Unlink(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

func switchDialer(sw *Switch) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if sw.Down() {
			return nil, errPartitioned
		}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &switchConn{Conn: conn, sw: sw}, nil
	}
}

var errPartitioned = &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("testredis: switched off (simulated outage)")}

type switchConn struct {
	net.Conn
	sw *Switch
}

func (c *switchConn) Read(b []byte) (int, error) {
	if c.sw.Down() {
		return 0, errPartitioned
	}
	return c.Conn.Read(b)
}

func (c *switchConn) Write(b []byte) (int, error) {
	if c.sw.Down() {
		return 0, errPartitioned
	}
	return c.Conn.Write(b)
}
