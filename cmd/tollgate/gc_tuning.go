package main

import (
	"runtime/debug"
)

// serveGCPercent is the GOGC serve runs with unless the operator sets GOGC.
const serveGCPercent = 400

// tuneGC trades memory for tail latency in `serve`. With Go's default GOGC=100 the
// collector runs each time the ~45 MB live heap (mostly tokenizer tables) doubles:
// 7–11% of CPU at 1,000–3,000 req/s and most of the p99. GOGC=400 makes collections
// rare; a soft memory limit at half of what this process may use (the cgroup limit
// in a container) makes the collector work harder before the heap could outgrow
// the box. An operator's GOGC or GOMEMLIMIT always wins.
func tuneGC(a *app) {
	if a.cfg.Env["GOGC"] == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if a.cfg.Env["GOMEMLIMIT"] == "" && a.memoryBytes > 0 {
		debug.SetMemoryLimit(int64(a.memoryBytes / 2))
	}
	a.logger.Debug("garbage collector tuned", "memory_limit_bytes", debug.SetMemoryLimit(-1))
}
