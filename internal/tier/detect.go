package tier

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/mem"
)

// EnvKubernetesServiceHost is set by the kubelet in every pod; its presence means
// ModeKubernetes.
const EnvKubernetesServiceHost = "KUBERNETES_SERVICE_HOST"

// Sources are where Detect reads from. The zero value reads the real machine with
// an empty environment; tests swap in a fake filesystem and fixed readings.
type Sources struct {
	// FS is the machine's filesystem root ("/"). nil means os.DirFS("/").
	// Detect reads proc/self/cgroup, proc/1/cgroup, sys/fs/cgroup/..., .dockerenv,
	// run/.containerenv, dev/nvidia0, dev/kfd, proc/driver/nvidia and the PATH
	// directories (for nvidia-smi) through it.
	FS fs.FS
	// LookupEnv reads one environment variable (pass os.LookupEnv from the config
	// layer, or a map in tests). nil means an empty environment. Detect reads
	// KUBERNETES_SERVICE_HOST and PATH.
	LookupEnv func(key string) (string, bool)
	// HostCPUs returns the host's logical CPU count. nil means gopsutil's
	// cpu.CountsWithContext(ctx, true).
	HostCPUs func(ctx context.Context) (int, error)
	// HostMemoryBytes returns the host's total memory in bytes. nil means
	// gopsutil's mem.VirtualMemoryWithContext(ctx).Total.
	HostMemoryBytes func(ctx context.Context) (uint64, error)
}

// Detect reads the host's resources. It fails only when the host's CPU count or
// memory cannot be read, or a cgroup file holds garbage; missing files simply
// mean "not there" (no GPU, no limit, no container).
func Detect(ctx context.Context, src Sources) (Resources, error) {
	fsys := src.FS
	if fsys == nil {
		fsys = os.DirFS("/")
	}
	env := src.LookupEnv
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	hostCPUs := src.HostCPUs
	if hostCPUs == nil {
		hostCPUs = func(ctx context.Context) (int, error) { return cpu.CountsWithContext(ctx, true) }
	}
	hostMem := src.HostMemoryBytes
	if hostMem == nil {
		hostMem = func(ctx context.Context) (uint64, error) {
			vm, err := mem.VirtualMemoryWithContext(ctx)
			if err != nil {
				return 0, err
			}
			return vm.Total, nil
		}
	}

	var r Resources
	var errs []error
	var err error
	if r.HostCPUs, err = hostCPUs(ctx); err != nil {
		errs = append(errs, fmt.Errorf("count host CPUs: %w", err))
	}
	if r.HostMemoryBytes, err = hostMem(ctx); err != nil {
		errs = append(errs, fmt.Errorf("read host memory: %w", err))
	}
	cg, err := readCgroup(fsys)
	if err != nil {
		errs = append(errs, err)
	}
	r.CgroupVersion, r.CPULimitMillis, r.MemoryLimitBytes = cg.version, cg.cpuMillis, cg.memoryBytes
	r.Mode, r.ModeEvidence = detectMode(fsys, env, cg)
	r.GPUEvidence = detectGPU(fsys, env)
	r.GPU = r.GPUEvidence != ""
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("detect host resources: %w", err)
	}
	return r, nil
}

// detectMode decides the deployment mode, Kubernetes first since pods are
// containers too.
func detectMode(fsys fs.FS, env func(string) (string, bool), cg cgroupLimits) (Mode, string) {
	if v, ok := env(EnvKubernetesServiceHost); ok && v != "" {
		return ModeKubernetes, EnvKubernetesServiceHost + " is set"
	}
	for _, marker := range []string{".dockerenv", "run/.containerenv"} {
		if exists(fsys, marker) {
			return ModeContainer, "/" + marker + " exists"
		}
	}
	if b, err := fs.ReadFile(fsys, "proc/1/cgroup"); err == nil {
		s := string(b)
		// Substrings of PID 1's cgroup paths that container runtimes leave.
		for _, m := range []string{"docker", "kubepods", "containerd", "libpod", "podman", "lxc", "crio"} {
			if strings.Contains(s, m) {
				return ModeContainer, "/proc/1/cgroup mentions " + m
			}
		}
	}
	if cg.rootLimited {
		return ModeContainer, "cgroup v2 limit at the cgroup namespace root"
	}
	return ModeDesktop, "no container or Kubernetes markers"
}

// detectGPU returns where a GPU was seen, or "" for none.
func detectGPU(fsys fs.FS, env func(string) (string, bool)) string {
	for _, p := range []string{"dev/nvidia0", "proc/driver/nvidia", "dev/kfd"} {
		if exists(fsys, p) {
			return "/" + p
		}
	}
	pathList, _ := env("PATH")
	for _, dir := range strings.Split(pathList, ":") {
		if !strings.HasPrefix(dir, "/") {
			continue // relative PATH entries depend on the working directory
		}
		name := path.Join(strings.TrimPrefix(path.Clean(dir), "/"), "nvidia-smi")
		if fi, err := fs.Stat(fsys, name); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return "/" + name
		}
	}
	return ""
}
