package main

import (
	"runtime/debug"

	"github.com/tollgate-dev/tollgate/internal/tier"
)

// containerMemoryShare is the part of the container's memory limit serve lets the
// Go heap grow to before the collector works harder (GOMEMLIMIT): the rest is
// for goroutine stacks, the binary and what the kernel charges to the cgroup.
const containerMemoryShare = 0.9

// containerMemoryLimit is the soft memory limit for a process with resources r:
// 90% of its cgroup memory limit (memory.max, or memory.limit_in_bytes on cgroup
// v1), or 0 when there is none or it is not below the host's memory. Never a
// share of the host's memory: a host process shares the box with others.
func containerMemoryLimit(r tier.Resources) int64 {
	if r.MemoryLimitBytes == 0 || (r.HostMemoryBytes > 0 && r.MemoryLimitBytes >= r.HostMemoryBytes) {
		return 0
	}
	return int64(float64(r.MemoryLimitBytes) * containerMemoryShare)
}

// tuneGC leaves the collector at Go's defaults (GOGC=100) and, in a container
// with a memory limit, sets a soft memory limit below it so the heap cannot
// outgrow the box. An operator's GOMEMLIMIT always wins.
func tuneGC(a *app) {
	if a.cfg.Env["GOMEMLIMIT"] == "" && a.memoryLimit > 0 {
		debug.SetMemoryLimit(a.memoryLimit)
	}
	a.logger.Debug("garbage collector", "memory_limit_bytes", debug.SetMemoryLimit(-1))
}
