package tier

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// cgroupRoot is where cgroup filesystems are mounted, relative to the FS root.
const cgroupRoot = "sys/fs/cgroup"

// v1Unlimited: cgroup v1 reports "no memory limit" as a page-aligned value near
// 2^63; anything at or above 2^62 bytes (4 EiB) is treated as no limit.
const v1Unlimited = uint64(1) << 62

// cgroupLimits is what readCgroup found.
type cgroupLimits struct {
	version     int    // 0 when no cgroup filesystem was found
	cpuMillis   int64  // 0 = no limit
	memoryBytes uint64 // 0 = no limit
	// rootLimited is true when a limit sits at the root of the cgroup namespace
	// (cgroup v2 only): hosts have none there, containers often do.
	rootLimited bool
}

// readCgroup reads the CPU and memory limits that apply to this process. For each
// controller it walks from the process's own cgroup (from proc/self/cgroup) up to
// the mount root and keeps the tightest limit, because a parent's limit binds its
// children too. Inside a container the process's path often does not exist in
// the container's view; the walk then ends at the mount root, which is the
// container's own cgroup.
func readCgroup(fsys fs.FS) (cgroupLimits, error) {
	self, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cgroupLimits{}, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	paths := parseProcCgroup(string(self))

	if exists(fsys, path.Join(cgroupRoot, "cgroup.controllers")) {
		return readCgroupV2(fsys, paths[""])
	}
	if isDir(fsys, path.Join(cgroupRoot, "cpu")) || isDir(fsys, path.Join(cgroupRoot, "memory")) ||
		isDir(fsys, path.Join(cgroupRoot, "cpu,cpuacct")) {
		return readCgroupV1(fsys, paths)
	}
	return cgroupLimits{}, nil
}

// parseProcCgroup maps each controller to its cgroup path; the cgroup v2 entry
// ("0::/path") is under "". Lines look like "4:memory:/docker/abc" or
// "1:cpu,cpuacct:/".
func parseProcCgroup(s string) map[string]string {
	paths := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			paths[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			paths[c] = parts[2]
		}
	}
	return paths
}

func readCgroupV2(fsys fs.FS, self string) (cgroupLimits, error) {
	lim := cgroupLimits{version: 2}
	var errs []error
	for _, dir := range ancestors(cgroupRoot, self) {
		if raw, ok := readTrimmed(fsys, path.Join(dir, "cpu.max")); ok {
			m, err := parseCPUMax(raw)
			if err != nil {
				errs = append(errs, fmt.Errorf("/%s/cpu.max: %w", dir, err))
			} else if m > 0 && (lim.cpuMillis == 0 || m < lim.cpuMillis) {
				lim.cpuMillis = m
				lim.rootLimited = lim.rootLimited || dir == cgroupRoot
			}
		}
		if raw, ok := readTrimmed(fsys, path.Join(dir, "memory.max")); ok && raw != "max" {
			b, err := strconv.ParseUint(raw, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("/%s/memory.max: %w", dir, err))
			} else if b > 0 && (lim.memoryBytes == 0 || b < lim.memoryBytes) {
				lim.memoryBytes = b
				lim.rootLimited = lim.rootLimited || dir == cgroupRoot
			}
		}
	}
	return lim, errors.Join(errs...)
}

// parseCPUMax parses cgroup v2 cpu.max, "<quota> <period>" in microseconds or
// "max <period>", into millicores (0 = no limit). "200000 100000" is 2000.
func parseCPUMax(raw string) (int64, error) {
	fields := strings.Fields(raw)
	if len(fields) == 0 || len(fields) > 2 {
		return 0, fmt.Errorf("want \"<quota> <period>\", got %q", raw)
	}
	if fields[0] == "max" {
		return 0, nil
	}
	period := "100000" // the kernel default when only the quota is written
	if len(fields) == 2 {
		period = fields[1]
	}
	return quotaMillis(fields[0], period)
}

// quotaMillis turns a CFS quota and period (microseconds) into millicores,
// rounding up so that a tiny quota never reads as "no limit". A negative quota
// means no limit (cgroup v1 writes -1).
func quotaMillis(quotaS, periodS string) (int64, error) {
	quota, err := strconv.ParseInt(quotaS, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quota %q: %w", quotaS, err)
	}
	period, err := strconv.ParseInt(periodS, 10, 64)
	if err != nil || period <= 0 {
		return 0, fmt.Errorf("period %q: not a positive integer", periodS)
	}
	if quota < 0 {
		return 0, nil
	}
	return (quota*1000 + period - 1) / period, nil
}

func readCgroupV1(fsys fs.FS, paths map[string]string) (cgroupLimits, error) {
	lim := cgroupLimits{version: 1}
	var errs []error
	for _, dir := range v1Dirs(fsys, "cpu", paths["cpu"]) {
		quota, okQ := readTrimmed(fsys, path.Join(dir, "cpu.cfs_quota_us"))
		period, okP := readTrimmed(fsys, path.Join(dir, "cpu.cfs_period_us"))
		if !okQ || !okP {
			continue
		}
		m, err := quotaMillis(quota, period)
		if err != nil {
			errs = append(errs, fmt.Errorf("/%s/cpu.cfs_*_us: %w", dir, err))
		} else if m > 0 && (lim.cpuMillis == 0 || m < lim.cpuMillis) {
			lim.cpuMillis = m
		}
	}
	for _, dir := range v1Dirs(fsys, "memory", paths["memory"]) {
		raw, ok := readTrimmed(fsys, path.Join(dir, "memory.limit_in_bytes"))
		if !ok {
			continue
		}
		b, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("/%s/memory.limit_in_bytes: %w", dir, err))
		} else if b > 0 && b < v1Unlimited && (lim.memoryBytes == 0 || b < lim.memoryBytes) {
			lim.memoryBytes = b
		}
	}
	return lim, errors.Join(errs...)
}

// v1Dirs lists the directories to check for a cgroup v1 controller: from the
// process's cgroup up to the root of whichever mount holds the controller
// ("cpu", or the combined "cpu,cpuacct").
func v1Dirs(fsys fs.FS, controller, self string) []string {
	for _, mount := range []string{controller, controller + ",cpuacct", "cpuacct," + controller} {
		root := path.Join(cgroupRoot, mount)
		if isDir(fsys, root) {
			return ancestors(root, self)
		}
	}
	return nil
}

// ancestors returns root/self, its parents, and root itself, deepest first,
// without escaping root.
func ancestors(root, self string) []string {
	self = path.Clean("/" + self)
	var dirs []string
	for {
		dirs = append(dirs, path.Join(root, self))
		if self == "/" {
			return dirs
		}
		self = path.Dir(self)
	}
}

func readTrimmed(fsys fs.FS, name string) (string, bool) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

func isDir(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && fi.IsDir()
}
