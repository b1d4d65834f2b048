package tier

import (
	"fmt"
	"strings"
)

// Tier is a sizing class, 1 (smallest) to 4.
type Tier int

// The four tiers; see the package doc for thresholds.
const (
	// TierConstrained: ≤ 2 cores or < 4 GiB. Small pools, small batches.
	TierConstrained Tier = 1
	// TierBalanced: a typical laptop or small VM. Any desktop tops out here.
	TierBalanced Tier = 2
	// TierHighPerformance: 8+ cores and 16+ GiB in a container or pod.
	TierHighPerformance Tier = 3
	// TierEnterprise: 32+ cores and 128+ GiB (or 8+/16+ with a GPU), Kubernetes only.
	TierEnterprise Tier = 4
)

// String returns the tier's name ("Balanced").
func (t Tier) String() string {
	switch t {
	case TierConstrained:
		return "Constrained"
	case TierBalanced:
		return "Balanced"
	case TierHighPerformance:
		return "High-performance"
	case TierEnterprise:
		return "Enterprise"
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// Thresholds, as in the package doc table.
const (
	gib = uint64(1) << 30

	cpuBalancedMillis = 2000  // more than this leaves Constrained
	cpuHighMillis     = 8000  // at least this reaches High-performance
	cpuEnterprise     = 32000 // at least this reaches Enterprise

	memBalanced   = 4 * gib   // at least this leaves Constrained
	memHigh       = 16 * gib  // at least this reaches High-performance
	memEnterprise = 128 * gib // at least this reaches Enterprise
)

// Profile is the outcome of Classify: the tier, why, and the knobs it sets. It is
// what `tollgate config detect --json` prints.
type Profile struct {
	// Tier is the chosen tier.
	Tier Tier `json:"tier"`
	// TierName is Tier's name, for people reading the JSON.
	TierName string `json:"tier_name"`
	// Resources are the readings the tier was chosen from.
	Resources Resources `json:"resources"`
	// Reasons explain the choice, one short sentence each, in decision order.
	Reasons []string `json:"reasons"`
	// Knobs are the tier's sizing values, after any Overrides.
	Knobs Knobs `json:"knobs"`
	// Overridden lists the env names of knobs that Overrides changed.
	Overridden []string `json:"overridden,omitempty"`
}

// Classify chooses the tier for r and its knobs. It is pure and total: unknown
// readings (0 CPUs, 0 memory) count as the smallest.
func Classify(r Resources) Profile {
	var reasons []string
	cpuMillis := r.EffectiveCPUMillis()
	memBytes := r.EffectiveMemoryBytes()

	cpuSrc := "host"
	if r.cpuLimited() {
		cpuSrc = cgroupFile(r.CgroupVersion, "cpu.max", "cpu.cfs_quota_us")
	}
	reasons = append(reasons, fmt.Sprintf("%s CPU cores (%s)", millisString(cpuMillis), cpuSrc))
	memSrc := "host"
	if r.memoryLimited() {
		memSrc = cgroupFile(r.CgroupVersion, "memory.max", "memory.limit_in_bytes")
	}
	reasons = append(reasons, fmt.Sprintf("%s memory (%s)", bytesString(memBytes), memSrc))

	cpuTier, memTier := cpuTierFor(cpuMillis), memTierFor(memBytes)
	t := min(cpuTier, memTier)
	switch {
	case cpuTier < memTier:
		reasons = append(reasons, fmt.Sprintf("CPU limits to %s (memory alone would allow %s)", cpuTier, memTier))
	case memTier < cpuTier:
		reasons = append(reasons, fmt.Sprintf("memory limits to %s (CPU alone would allow %s)", memTier, cpuTier))
	default:
		reasons = append(reasons, fmt.Sprintf("CPU and memory both fit %s", t))
	}

	if r.GPU {
		if t >= TierBalanced && t < TierEnterprise {
			t++
			reasons = append(reasons, fmt.Sprintf("GPU present (%s): raised to %s", r.GPUEvidence, t))
		} else {
			reasons = append(reasons, fmt.Sprintf("GPU present (%s): no change at %s", r.GPUEvidence, t))
		}
	}

	mode := r.Mode
	if !mode.Valid() {
		mode = ModeDesktop
	}
	if limit := modeCap(mode); t > limit {
		t = limit
		reasons = append(reasons, fmt.Sprintf("%s: capped at %s", mode, limit))
	} else {
		reasons = append(reasons, fmt.Sprintf("%s (%s): cap %s not reached", mode, r.ModeEvidence, limit))
	}

	return Profile{
		Tier:      t,
		TierName:  t.String(),
		Resources: r,
		Reasons:   reasons,
		Knobs:     KnobsFor(t),
	}
}

func cpuTierFor(millis int64) Tier {
	switch {
	case millis >= cpuEnterprise:
		return TierEnterprise
	case millis >= cpuHighMillis:
		return TierHighPerformance
	case millis > cpuBalancedMillis:
		return TierBalanced
	}
	return TierConstrained
}

func memTierFor(b uint64) Tier {
	switch {
	case b >= memEnterprise:
		return TierEnterprise
	case b >= memHigh:
		return TierHighPerformance
	case b >= memBalanced:
		return TierBalanced
	}
	return TierConstrained
}

// modeCap is the highest tier a deployment mode may reach (see the package doc).
func modeCap(m Mode) Tier {
	switch m {
	case ModeKubernetes:
		return TierEnterprise
	case ModeContainer:
		return TierHighPerformance
	}
	return TierBalanced
}

func cgroupFile(version int, v2, v1 string) string {
	if version == 1 {
		return "cgroup v1 " + v1
	}
	return "cgroup v2 " + v2
}

// millisString formats millicores as cores: 2000 → "2", 1500 → "1.5", 250 → "0.25".
func millisString(m int64) string {
	if m%1000 == 0 {
		return fmt.Sprint(m / 1000)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%03d", m/1000, m%1000), "0")
}

// bytesString formats bytes as GiB with at most one decimal, or MiB below 1 GiB:
// 64 GiB → "64 GiB", 3.5 GiB → "3.5 GiB", 512 MiB → "512 MiB".
func bytesString(b uint64) string {
	if b < gib {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	whole, tenth := b/gib, (b%gib)*10/gib
	if tenth == 0 {
		return fmt.Sprintf("%d GiB", whole)
	}
	return fmt.Sprintf("%d.%d GiB", whole, tenth)
}
