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

db="sqlite://$tmp/selfhost/tollgate.db"
./bin/tollgate migrate up --database-url "$db" >/dev/null 2>&1 || true
body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
rate=${BENCH_RATE:-1000}
dur=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-2}
: >"$out/tracing.jsonl"

run() { # name env...
	local name=$1; shift
	local port; port=$(free_port)
	env "$@" TOLLGATE_ADDR="127.0.0.1:$port" TOLLGATE_DATABASE_URL="$db" TOLLGATE_SPOOL_DIR="$tmp/spool" \
		OPENAI_BASE_URL="http://127.0.0.1:$up_port/v1" OPENAI_API_KEY=bench TOLLGATE_LOG_LEVEL=warn \
		TOLLGATE_ADMIN_PASSWORD=bench-admin-password ./bin/tollgate serve >"$tmp/$name.log" 2>&1 &
	local gw=$!
	wait_http "http://127.0.0.1:$port/healthz"
	if [ -z "${key:-}" ]; then
		key=$(TOLLGATE_DATABASE_URL="$db" ./bin/tollgate keys create --tenant default --name load --json | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
		TOLLGATE_DATABASE_URL="$db" ./bin/tollgate budgets set --tenant default --period month --limit-usd 100000 --hard >/dev/null
		sleep 2.5 # the budget cache TTL: the budget is in force for the measured run
	fi
	"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "http://127.0.0.1:$port/v1/chat/completions" -key "$key" -body "$body" >/dev/null
	local spans0; spans0=$(curl -fs "http://127.0.0.1:$sink_http/count")
	local t0; t0=$(cpu_ticks $gw)
	local r; r=$("$tmp/loadgen" -duration "$dur" -rate "$rate" -name "$name" -url "http://127.0.0.1:$port/v1/chat/completions" -key "$key" -body "$body")
	local t1; t1=$(cpu_ticks $gw)
	kill $gw; wait $gw 2>/dev/null || true # serve flushes its queued spans on exit
	local spans1; spans1=$(curl -fs "http://127.0.0.1:$sink_http/count")
	echo "${r%\}},\"gateway_cpu_s\":$(awk "BEGIN{print ($t1-$t0)/100}"),\"spans\":$((spans1 - spans0))}" | tee -a "$out/tracing.jsonl"
}

for i in $(seq 1 "$rounds"); do
	log "round $i: $rate req/s for $dur each"
	run "tracing off"
	run "tracing otlp http" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_http" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
	run "tracing otlp grpc" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_grpc" OTEL_EXPORTER_OTLP_PROTOCOL=grpc
	run "tracing otlp http 10% sampled" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_http" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
		OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1
done
log "done: $out/tracing.jsonl"
