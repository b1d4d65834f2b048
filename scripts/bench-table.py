#!/usr/bin/env python3
"""bench-table.py LOAD_JSONL TABLE_JSONL: the one table `make bench` prints.

Latency deltas are Tollgate minus the direct run made just before it in the same
mode (the machine is shared, so only same-run differences mean anything)."""
import json
import sys

runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
metrics = {}
for l in open(sys.argv[2]):
    if l.strip():
        m = json.loads(l)
        metrics[(m["mode"], m["metric"])] = m["value"]


def run(name, rate):
    found = [r for r in runs if r["name"] == name and r["rate"] == rate]
    return found[-1] if found else None


def delta(mode, rate, key):
    d, t = run(f"{mode} direct json", rate), run(f"{mode} tollgate json", rate)
    if not d or not t:
        return "n/a"
    return f"{t[key] - d[key]:+.2f}"


def pct(r):
    return "n/a" if not r else f"{r['error_pct']:.2f}%"


def mb(kb):
    return "n/a" if kb is None else f"{float(kb) / 1024:.0f} MB"


print("| mode | Δp50 / Δp99 @1k | Δp99 @3k | errors @3k | peak RSS | idle RSS | CPU @3k | stream 1.5s @1k: errors, KB per in-flight |")
print("|---|---|---|---|---|---|---|---|")
for mode in ("multi-tenant", "self-host"):
    t3 = run(f"{mode} tollgate json", 3000)
    s = run(f"{mode} tollgate stream 1.5s", 1000)
    cpu = metrics.get((mode, "cpu_pct_3000"))
    print(
        f"| {mode} | {delta(mode, 1000, 'p50_ms')} / {delta(mode, 1000, 'p99_ms')} ms | {delta(mode, 3000, 'p99_ms')} ms"
        f" | {pct(t3)} | {mb(metrics.get((mode, 'peak_rss_kb')))} | {mb(metrics.get((mode, 'idle_rss_kb')))}"
        f" | {'n/a' if cpu is None else f'{float(cpu):.0f}%'} of a core"
        f" | {s['errors'] if s else 'n/a'} errors, {metrics.get((mode, 'stream_kb_per_inflight'), 'n/a')} KB |"
    )
print("| target | +0.25 / +0.6 ms | +1.5 ms | 0% | 80 MB | 50 MB | 55% of a core | 0 errors, 40 KB |")
for mode in ("multi-tenant", "self-host"):
    inst = metrics.get((mode, "idle_rss_installed_kb"))
    if inst is not None:
        print(f"\n{mode} idle RSS of the binary as installed (copied, not fresh from the linker): {mb(inst)}", end="")
for mode in ("multi-tenant", "self-host"):
    d1, d3 = run(f"{mode} direct json", 1000), run(f"{mode} direct json", 3000)
    if d1 and d3:
        print(f"\n{mode} direct baseline: p50 {d1['p50_ms']:.3f} / p99 {d1['p99_ms']:.3f} ms @1k, p99 {d3['p99_ms']:.3f} ms @3k", end="")
print()
