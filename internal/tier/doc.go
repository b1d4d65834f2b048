// Package tier sizes Tollgate from the resources of the host it runs on.
//
// Detect reads the host (CPU count and memory through gopsutil, cgroup v1/v2
// limits, GPU device nodes, container and Kubernetes markers) into Resources;
// Classify, a pure function, turns Resources into a Profile: one of four tiers
// with the reasons for it and the sizing knobs (worker concurrency, database
// pool, ledger batch size, key cache size, request body limit). RenderEnv writes
// a Profile as a commented .env file for `tollgate config env`.
//
// # Thresholds
//
// Each resource suggests a tier on its own; the lower suggestion wins, since the
// scarcer resource is the one that runs out. CPU counts cores as the effective
// limit (the cgroup quota inside a container, the host's logical CPUs otherwise);
// memory likewise.
//
//	tier                 effective CPU        effective memory
//	1 Constrained        ≤ 2 cores            < 4 GiB
//	2 Balanced           > 2 and < 8 cores    4 GiB to < 16 GiB
//	3 High-performance   8 to < 32 cores      16 GiB to < 128 GiB
//	4 Enterprise         ≥ 32 cores           ≥ 128 GiB
//
// Then two adjustments, in this order:
//
//   - GPU: a GPU (an NVIDIA device node or driver, nvidia-smi on PATH, or the
//     ROCm /dev/kfd) lifts a Balanced or better host one tier. A GPU box usually
//     serves local models (Ollama, vLLM) behind the gateway, so it sees more,
//     cheaper requests to meter; a Constrained host stays Constrained because
//     its CPU or memory is what limits.
//   - Deployment mode caps the tier. A desktop shares the machine with its user
//     and runs SQLite with the in-process meter: at most Balanced (a 14-core,
//     64 GiB laptop is Balanced). A plain container (Docker, compose) usually
//     shares its host with Postgres and Redis: at most High-performance.
//     Kubernetes, with its own database and Redis, may reach Enterprise.
//
// The knobs of each tier are in KnobsFor; every knob can be overridden (Overrides).
package tier
