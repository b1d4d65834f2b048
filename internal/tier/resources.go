package tier

// Mode is how Tollgate is deployed, as far as the host tells.
type Mode string

// Deployment modes.
const (
	// ModeDesktop is a process on a workstation or laptop: no container markers.
	ModeDesktop Mode = "desktop"
	// ModeContainer is a container outside Kubernetes (Docker, Podman, compose).
	ModeContainer Mode = "container"
	// ModeKubernetes is a pod: KUBERNETES_SERVICE_HOST is set.
	ModeKubernetes Mode = "kubernetes"
)

// Valid reports whether m is one of the three modes.
func (m Mode) Valid() bool {
	return m == ModeDesktop || m == ModeContainer || m == ModeKubernetes
}

// Resources are the raw readings Classify decides from. Detect fills them from the
// host; tests build them by hand.
type Resources struct {
	// Mode is the deployment mode.
	Mode Mode `json:"mode"`
	// ModeEvidence says what decided Mode ("/.dockerenv exists").
	ModeEvidence string `json:"mode_evidence"`
	// HostCPUs is the host's logical CPU count. 0 means unknown.
	HostCPUs int `json:"host_cpus"`
	// HostMemoryBytes is the host's total memory, bytes. 0 means unknown.
	HostMemoryBytes uint64 `json:"host_memory_bytes"`
	// CgroupVersion is 1 or 2 when cgroup limits were read, 0 when no cgroup
	// filesystem was found.
	CgroupVersion int `json:"cgroup_version"`
	// CPULimitMillis is the cgroup CPU quota in millicores (quota / period × 1000,
	// 2000 = two cores). 0 means no limit.
	CPULimitMillis int64 `json:"cpu_limit_millis"`
	// MemoryLimitBytes is the cgroup memory limit, bytes. 0 means no limit.
	MemoryLimitBytes uint64 `json:"memory_limit_bytes"`
	// GPU reports whether a GPU was found.
	GPU bool `json:"gpu"`
	// GPUEvidence says where the GPU was seen ("/dev/nvidia0"); empty without one.
	GPUEvidence string `json:"gpu_evidence,omitempty"`
}

// EffectiveCPUMillis is the CPU the process may use, in millicores: the cgroup
// quota when it is below the host's CPUs, else the host's CPUs × 1000.
func (r Resources) EffectiveCPUMillis() int64 {
	host := int64(r.HostCPUs) * 1000
	if r.CPULimitMillis > 0 && (host == 0 || r.CPULimitMillis < host) {
		return r.CPULimitMillis
	}
	return host
}

// EffectiveCPUs is EffectiveCPUMillis rounded up to whole cores (1.5 → 2), at
// least 1: what Go's runtime uses for GOMAXPROCS under a quota.
func (r Resources) EffectiveCPUs() int {
	n := int((r.EffectiveCPUMillis() + 999) / 1000)
	return max(n, 1)
}

// EffectiveMemoryBytes is the memory the process may use, bytes: the cgroup limit
// when it is below the host's memory, else the host's memory.
func (r Resources) EffectiveMemoryBytes() uint64 {
	if r.MemoryLimitBytes > 0 && (r.HostMemoryBytes == 0 || r.MemoryLimitBytes < r.HostMemoryBytes) {
		return r.MemoryLimitBytes
	}
	return r.HostMemoryBytes
}

// cpuLimited reports whether the cgroup quota, not the host, bounds the CPU.
func (r Resources) cpuLimited() bool {
	return r.CPULimitMillis > 0 && r.EffectiveCPUMillis() == r.CPULimitMillis
}

// memoryLimited reports whether the cgroup limit, not the host, bounds memory.
func (r Resources) memoryLimited() bool {
	return r.MemoryLimitBytes > 0 && r.EffectiveMemoryBytes() == r.MemoryLimitBytes
}
