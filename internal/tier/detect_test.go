package tier_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/tier"
)

// fakeHost returns Sources over a fake filesystem with fixed host readings.
func fakeHost(files fstest.MapFS, env map[string]string, cpus int, memBytes uint64) tier.Sources {
	return tier.Sources{
		FS: files,
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		HostCPUs:        func(context.Context) (int, error) { return cpus, nil },
		HostMemoryBytes: func(context.Context) (uint64, error) { return memBytes, nil },
	}
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }

func dir() *fstest.MapFile { return &fstest.MapFile{Mode: os.ModeDir | 0o755} }

func TestDetect(t *testing.T) {
	t.Parallel()

	v2Root := fstest.MapFS{
		"sys/fs/cgroup/cgroup.controllers": file("cpuset cpu io memory pids\n"),
	}
	with := func(base fstest.MapFS, extra fstest.MapFS) fstest.MapFS {
		out := fstest.MapFS{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}

	tests := []struct {
		name      string
		files     fstest.MapFS
		env       map[string]string
		cpus      int
		mem       uint64
		want      tier.Resources
		wantTier  tier.Tier
		wantCores int
	}{
		{
			name: "cgroup v2 limited container: 64 host cores, cpu.max 200000 100000",
			files: with(v2Root, fstest.MapFS{
				".dockerenv":                 file(""),
				"proc/self/cgroup":           file("0::/\n"),
				"sys/fs/cgroup/cpu.max":      file("200000 100000\n"),
				"sys/fs/cgroup/memory.max":   file("8589934592\n"),
				"proc/1/cgroup":              file("0::/\n"),
				"sys/fs/cgroup/memory.high":  file("max\n"),
				"sys/fs/cgroup/cpu.weight":   file("100\n"),
				"sys/fs/cgroup/cgroup.procs": file("1\n"),
			}),
			cpus: 64, mem: 256 * gib,
			want: tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "/.dockerenv exists", HostCPUs: 64, HostMemoryBytes: 256 * gib,
				CgroupVersion: 2, CPULimitMillis: 2000, MemoryLimitBytes: 8 * gib},
			wantTier: tier.TierConstrained, wantCores: 2,
		},
		{
			name: "cgroup v2 unlimited (max) container marked only by its cgroup",
			files: with(v2Root, fstest.MapFS{
				"proc/self/cgroup":         file("0::/\n"),
				"proc/1/cgroup":            file("0::/system.slice/containerd.service/kubepods-burstable.slice\n"),
				"sys/fs/cgroup/cpu.max":    file("max 100000\n"),
				"sys/fs/cgroup/memory.max": file("max\n"),
			}),
			cpus: 16, mem: 64 * gib,
			want: tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "/proc/1/cgroup mentions kubepods", HostCPUs: 16, HostMemoryBytes: 64 * gib,
				CgroupVersion: 2},
			wantTier: tier.TierHighPerformance, wantCores: 16,
		},
		{
			name: "cgroup v2 limit at the namespace root marks a container",
			files: with(v2Root, fstest.MapFS{
				"proc/self/cgroup":      file("0::/\n"),
				"sys/fs/cgroup/cpu.max": file("150000 100000\n"),
			}),
			cpus: 8, mem: 16 * gib,
			want: tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "cgroup v2 limit at the cgroup namespace root", HostCPUs: 8, HostMemoryBytes: 16 * gib,
				CgroupVersion: 2, CPULimitMillis: 1500},
			wantTier: tier.TierConstrained, wantCores: 2,
		},
		{
			name: "cgroup v2 nested slice: the tightest ancestor wins, host stays a desktop",
			files: with(v2Root, fstest.MapFS{
				"proc/self/cgroup":                                              file("0::/user.slice/user-1000.slice/app.scope\n"),
				"sys/fs/cgroup/user.slice/cpu.max":                              file("400000 100000\n"),
				"sys/fs/cgroup/user.slice/memory.max":                           file("max\n"),
				"sys/fs/cgroup/user.slice/user-1000.slice/cpu.max":              file("max 100000\n"),
				"sys/fs/cgroup/user.slice/user-1000.slice/app.scope/cpu.max":    file("800000 100000\n"),
				"sys/fs/cgroup/user.slice/user-1000.slice/app.scope/memory.max": file("17179869184\n"),
			}),
			cpus: 14, mem: 64 * gib,
			want: tier.Resources{Mode: tier.ModeDesktop, ModeEvidence: "no container or Kubernetes markers", HostCPUs: 14, HostMemoryBytes: 64 * gib,
				CgroupVersion: 2, CPULimitMillis: 4000, MemoryLimitBytes: 16 * gib},
			wantTier: tier.TierBalanced, wantCores: 4,
		},
		{
			name: "cgroup v1 container with a combined cpu,cpuacct mount",
			files: fstest.MapFS{
				"proc/self/cgroup": file("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"),
				"proc/1/cgroup":    file("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"),
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":      file("400000\n"),
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":     file("100000\n"),
				"sys/fs/cgroup/memory/memory.limit_in_bytes":      file("6442450944\n"),
				"sys/fs/cgroup/memory/docker":                     dir(),
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.shares": file("1024\n"),
			},
			cpus: 32, mem: 128 * gib,
			want: tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "/proc/1/cgroup mentions docker", HostCPUs: 32, HostMemoryBytes: 128 * gib,
				CgroupVersion: 1, CPULimitMillis: 4000, MemoryLimitBytes: 6 * gib},
			wantTier: tier.TierBalanced, wantCores: 4,
		},
		{
			name: "cgroup v1 unlimited: quota -1 and the near-2^63 memory limit",
			files: fstest.MapFS{
				".dockerenv":                                                  file(""),
				"proc/self/cgroup":                                            file("4:memory:/process_api/4e19\n1:cpu:/\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":                          file("-1\n"),
				"sys/fs/cgroup/cpu/cpu.cfs_period_us":                         file("100000\n"),
				"sys/fs/cgroup/memory/memory.limit_in_bytes":                  file("9223372036854771712\n"),
				"sys/fs/cgroup/memory/process_api/4e19/memory.limit_in_bytes": file("9223372036854771712\n"),
			},
			cpus: 2, mem: 24 * gib,
			want: tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "/.dockerenv exists", HostCPUs: 2, HostMemoryBytes: 24 * gib,
				CgroupVersion: 1},
			wantTier: tier.TierConstrained, wantCores: 2,
		},
		{
			name: "Kubernetes pod with cgroup v2 limits and a GPU",
			files: with(v2Root, fstest.MapFS{
				"proc/self/cgroup":         file("0::/\n"),
				"sys/fs/cgroup/cpu.max":    file("1600000 100000\n"),
				"sys/fs/cgroup/memory.max": file("68719476736\n"),
				"dev/nvidia0":              file(""),
			}),
			env:  map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"},
			cpus: 96, mem: 768 * gib,
			want: tier.Resources{Mode: tier.ModeKubernetes, ModeEvidence: "KUBERNETES_SERVICE_HOST is set", HostCPUs: 96, HostMemoryBytes: 768 * gib,
				CgroupVersion: 2, CPULimitMillis: 16000, MemoryLimitBytes: 64 * gib, GPU: true, GPUEvidence: "/dev/nvidia0"},
			wantTier: tier.TierEnterprise, wantCores: 16,
		},
		{
			name: "desktop without cgroups, nvidia-smi on PATH",
			files: fstest.MapFS{
				"usr/bin/nvidia-smi":       &fstest.MapFile{Data: []byte("#!"), Mode: 0o755},
				"usr/local/bin/nvidia-smi": &fstest.MapFile{Data: []byte("not executable"), Mode: 0o644},
			},
			env:  map[string]string{"PATH": "relative/bin:/usr/local/bin:/usr/bin", "KUBERNETES_SERVICE_HOST": ""},
			cpus: 14, mem: 64 * gib,
			want: tier.Resources{Mode: tier.ModeDesktop, ModeEvidence: "no container or Kubernetes markers", HostCPUs: 14, HostMemoryBytes: 64 * gib,
				GPU: true, GPUEvidence: "/usr/bin/nvidia-smi"},
			wantTier: tier.TierBalanced, wantCores: 14,
		},
		{
			name:  "podman marker",
			files: fstest.MapFS{"run/.containerenv": file("")},
			cpus:  4, mem: 8 * gib,
			want:     tier.Resources{Mode: tier.ModeContainer, ModeEvidence: "/run/.containerenv exists", HostCPUs: 4, HostMemoryBytes: 8 * gib},
			wantTier: tier.TierBalanced, wantCores: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := tier.Detect(t.Context(), fakeHost(tt.files, tt.env, tt.cpus, tt.mem))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantCores, got.EffectiveCPUs())
			p := tier.Classify(got)
			require.Equal(t, tt.wantTier, p.Tier, "reasons: %q", p.Reasons)
		})
	}
}

func TestDetectErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		src     tier.Sources
		wantErr string
	}{
		{
			name: "garbage cpu.max",
			src: fakeHost(fstest.MapFS{
				"sys/fs/cgroup/cgroup.controllers": file(""),
				"sys/fs/cgroup/cpu.max":            file("lots 100000"),
			}, nil, 4, 8*gib),
			wantErr: "/sys/fs/cgroup/cpu.max",
		},
		{
			name: "zero period in cgroup v1",
			src: fakeHost(fstest.MapFS{
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":  file("100000"),
				"sys/fs/cgroup/cpu/cpu.cfs_period_us": file("0"),
			}, nil, 4, 8*gib),
			wantErr: "period",
		},
		{
			name: "host readings fail",
			src: tier.Sources{
				FS:              fstest.MapFS{},
				HostCPUs:        func(context.Context) (int, error) { return 0, errors.New("no /proc") },
				HostMemoryBytes: func(context.Context) (uint64, error) { return 0, errors.New("no meminfo") },
			},
			wantErr: "count host CPUs: no /proc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := tier.Detect(t.Context(), tt.src)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestDetectRealMachine runs Detect on the machine running the tests, through
// gopsutil and the real /proc and /sys.
func TestDetectRealMachine(t *testing.T) {
	t.Parallel()

	r, err := tier.Detect(t.Context(), tier.Sources{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, r.HostCPUs, 1)
	require.Positive(t, r.HostMemoryBytes)
	require.GreaterOrEqual(t, r.EffectiveCPUs(), 1)
	require.Positive(t, r.EffectiveMemoryBytes())
	require.True(t, r.Mode.Valid(), "mode %q", r.Mode)
	p := tier.Classify(r)
	require.GreaterOrEqual(t, int(p.Tier), 1)
	require.LessOrEqual(t, int(p.Tier), 4)
	t.Logf("this machine: tier %d %s, reasons %q", p.Tier, p.Tier, p.Reasons)
}
