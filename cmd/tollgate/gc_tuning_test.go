package main

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/tier"
)

// TestContainerMemoryLimit reads cgroup fixture files (v2 memory.max, v1
// memory.limit_in_bytes) as tier.Detect does and checks serve's soft memory
// limit: 90% of the container's limit, and none from the host's memory.
func TestContainerMemoryLimit(t *testing.T) {
	const gib = uint64(1) << 30
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	dir := &fstest.MapFile{Mode: fs.ModeDir | 0o555}
	cases := []struct {
		name  string
		files fstest.MapFS
		host  uint64
		want  int64
	}{
		{"cgroup v2 memory.max 1 GiB", fstest.MapFS{
			"proc/self/cgroup":                 file("0::/\n"),
			"sys/fs/cgroup/cgroup.controllers": file("cpu memory\n"),
			"sys/fs/cgroup/memory.max":         file("1073741824\n"),
		}, 64 * gib, int64(gib) * 9 / 10},
		{"cgroup v2 memory.max max: no limit, not the host's memory", fstest.MapFS{
			"proc/self/cgroup":                 file("0::/\n"),
			"sys/fs/cgroup/cgroup.controllers": file("cpu memory\n"),
			"sys/fs/cgroup/memory.max":         file("max\n"),
		}, 64 * gib, 0},
		{"cgroup v2 limit at or above the host's memory: none", fstest.MapFS{
			"proc/self/cgroup":                 file("0::/\n"),
			"sys/fs/cgroup/cgroup.controllers": file("cpu memory\n"),
			"sys/fs/cgroup/memory.max":         file("137438953472\n"),
		}, 64 * gib, 0},
		{"cgroup v1 memory.limit_in_bytes 2 GiB", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n"),
			"sys/fs/cgroup/memory":                       dir,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("2147483648\n"),
		}, 64 * gib, int64(2*gib) * 9 / 10},
		{"cgroup v1 unlimited", fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n"),
			"sys/fs/cgroup/memory":                       dir,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n"),
		}, 64 * gib, 0},
		{"no cgroup filesystem (bare host)", fstest.MapFS{}, 64 * gib, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tier.Detect(context.Background(), tier.Sources{
				FS:              tc.files,
				HostCPUs:        func(context.Context) (int, error) { return 8, nil },
				HostMemoryBytes: func(context.Context) (uint64, error) { return tc.host, nil },
			})
			require.NoError(t, err)
			require.InDelta(t, tc.want, containerMemoryLimit(r), 1)
		})
	}
}
