#!/usr/bin/env bash
# bench-tracing.sh: what OpenTelemetry tracing costs. A self-host gateway (SQLite,
# in-process meter, a hard budget enforced) in front of a minimal loopback upstream
# takes 1,000 req/s (open loop) four times, interleaved per round: tracing off
# (no OTEL_* variables), on over OTLP/HTTP and on over OTLP/gRPC to a local
# receiver (scripts/otlpsink) with every request sampled, and OTLP/HTTP with 10%
# of requests sampled. Reports latency, the
# gateway's CPU seconds over each run and the spans received. Run by make bench;
# alone it needs nothing but Go. Results: bin/bench/tracing.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bin/bench
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-tracing.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
log() { echo "== $*" >&2; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 30000)); }
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timeout waiting for $1" >&2; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

go build -trimpath -tags nomsgpack -o bin/tollgate ./cmd/tollgate # as make build ships it
go build -o "$tmp/loadgen" ./scripts/loadgen
go build -o "$tmp/upstream" ./scripts/upstream
go build -o "$tmp/otlpsink" ./scripts/otlpsink

up_port=$(free_port)
"$tmp/upstream" -addr "127.0.0.1:$up_port" >/dev/null &
pids+=($!)
wait_http "http://127.0.0.1:$up_port/v1/chat/completions"
sink_http=$(free_port)
sink_grpc=$(free_port)
"$tmp/otlpsink" -http "127.0.0.1:$sink_http" -grpc "127.0.0.1:$sink_grpc" &
pids+=($!)
wait_http "http://127.0.0.1:$sink_http/count"

# One seeded database (a key, a hard budget) that every run starts from a copy
# of, with an empty spool: a run measured on a ledger the runs before it filled
# would pay for their rows, which biased whichever configuration ran last.
seed="$tmp/seed"
seed_db="sqlite://$seed/tollgate.db"
port=$(free_port) # serve's first start creates the default tenant and the admin
TOLLGATE_ADDR="127.0.0.1:$port" TOLLGATE_DATABASE_URL="$seed_db" TOLLGATE_SPOOL_DIR="$seed/spool" \
	OPENAI_BASE_URL="http://127.0.0.1:$up_port/v1" OPENAI_API_KEY=bench TOLLGATE_LOG_LEVEL=warn \
	TOLLGATE_ADMIN_PASSWORD=bench-admin-password ./bin/tollgate serve >"$tmp/seed.log" 2>&1 &
seed_pid=$!
wait_http "http://127.0.0.1:$port/healthz"
kill $seed_pid; wait $seed_pid 2>/dev/null || true
key=$(TOLLGATE_DATABASE_URL="$seed_db" ./bin/tollgate keys create --tenant default --name load --json | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
TOLLGATE_DATABASE_URL="$seed_db" ./bin/tollgate budgets set --tenant default --period month --limit-usd 100000 --hard >/dev/null
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
rate=${BENCH_RATE:-1000}
dur=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-2}
: >"$out/tracing.jsonl"

run() { # name env...
	local name=$1; shift
	local port; port=$(free_port)
	rm -rf "$tmp/run" && cp -r "$seed" "$tmp/run"
	env "$@" TOLLGATE_ADDR="127.0.0.1:$port" TOLLGATE_DATABASE_URL="sqlite://$tmp/run/tollgate.db" TOLLGATE_SPOOL_DIR="$tmp/run/spool" \
		OPENAI_BASE_URL="http://127.0.0.1:$up_port/v1" OPENAI_API_KEY=bench TOLLGATE_LOG_LEVEL=warn \
		TOLLGATE_ADMIN_PASSWORD=bench-admin-password ./bin/tollgate serve >"$tmp/$name.log" 2>&1 &
	local gw=$!
	wait_http "http://127.0.0.1:$port/healthz"
	"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "http://127.0.0.1:$port/v1/chat/completions" -key "$key" -body "$body" >/dev/null
	local spans0; spans0=$(curl -fs "http://127.0.0.1:$sink_http/count")
	local t0; t0=$(cpu_ticks $gw)
	local r; r=$("$tmp/loadgen" -duration "$dur" -rate "$rate" -name "$name" -url "http://127.0.0.1:$port/v1/chat/completions" -key "$key" -body "$body")
	local t1; t1=$(cpu_ticks $gw)
	kill $gw; wait $gw 2>/dev/null || true # serve flushes its queued spans on exit
	local spans1; spans1=$(curl -fs "http://127.0.0.1:$sink_http/count")
	echo "${r%\}},\"gateway_cpu_s\":$(awk "BEGIN{print ($t1-$t0)/100}"),\"spans\":$((spans1 - spans0))}" | tee -a "$out/tracing.jsonl"
}

config() { # the i-th configuration
	case $1 in
	0) run "tracing off" ;;
	1) run "tracing otlp http" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_http" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf ;;
	2) run "tracing otlp grpc" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_grpc" OTEL_EXPORTER_OTLP_PROTOCOL=grpc ;;
	3) run "tracing otlp http 10% sampled" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_http" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
		OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 ;;
	esac
}
# Each round starts one configuration later, so that none always runs first
# or last (the machine drifts over minutes).
for i in $(seq 0 $((rounds - 1))); do
	log "round $((i + 1)): $rate req/s for $dur each"
	for j in 0 1 2 3; do config $(((i + j) % 4)); done
done
# Per round, each configuration against that round's run with tracing off; the
# medians over the rounds.
python3 - "$out/tracing.jsonl" <<'PY' | tee "$out/tracing.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rounds = [rows[i:i + 4] for i in range(0, len(rows), 4)]
print("| tracing at 1,000 req/s (medians of %d rounds) | Δp50 | Δp99 | gateway CPU | spans |" % len(rounds))
print("|---|---|---|---|---|")
for name in ("tracing otlp http", "tracing otlp grpc", "tracing otlp http 10% sampled"):
    d50, d99, cpu, spans = [], [], [], 0
    for r in rounds:
        off = next(x for x in r if x["name"] == "tracing off")
        on = next(x for x in r if x["name"] == name)
        d50.append(on["p50_ms"] - off["p50_ms"])
        d99.append(on["p99_ms"] - off["p99_ms"])
        cpu.append(100 * (on["gateway_cpu_s"] / off["gateway_cpu_s"] - 1))
        spans += on["spans"]
    print("| %s | %+.3f ms | %+.2f ms | %+.0f%% | %d |" % (name[8:], statistics.median(d50), statistics.median(d99), statistics.median(cpu), spans))
PY
log "done: $out/tracing.jsonl, $out/tracing.md"
