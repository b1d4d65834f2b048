#!/usr/bin/env bash
# bench.sh: the benchmarks behind the issues' figures (run by `make bench` under
# scripts/test-services.sh, which provides Postgres, a Redis Cluster and stripe-mock).
#  1. Go benchmarks: API-key auth, meter reserve+settle, routing hot path, ledger
#     writes, invoice run for 1,000 tenants, tenant provisioning at 1,000 tenants.
#  2. A loopback load run, both modes with a hard budget enforced: multi-tenant
#     (Postgres, Redis Cluster) and self-host (SQLite, in-process meter). A minimal
#     OpenAI-compatible upstream called directly and through Tollgate, open loop at
#     1,000 and 3,000 req/s; idle and peak RSS, gateway CPU; then 1,000 streams/s
#     that take 1.5 s each (~1,500 in flight) with the memory per in-flight stream;
#     the multi-tenant gateway's highest rate held. Prints one table (bin/bench/table.md).
#  3. OpenTelemetry tracing off vs on (scripts/bench-tracing.sh); BENCH_SKIP_TRACING=1 skips it.
# Narrower runs while profiling: BENCH_SKIP_GO=1, BENCH_MODES="self-host",
# BENCH_RATES="3000", BENCH_SKIP_STREAM=1; BENCH_PROFILE=1 saves a CPU profile of
# each Tollgate run and the heap after it (bin/bench/profiles/, `go tool pprof`).
# Everything targets 127.0.0.1 and stops by itself. Results: bin/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bin/bench
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
log() { echo "== $*" >&2; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 30000)); }
wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timeout waiting for $1" >&2; return 1; }

go build -trimpath -tags nomsgpack -o bin/tollgate ./cmd/tollgate # as make build ships it
go build -o "$tmp/loadgen" ./scripts/loadgen
go build -o "$tmp/upstream" ./scripts/upstream

if [ "${BENCH_SKIP_GO:-}" != "1" ]; then
	log "Go benchmarks"
	go test -run '^$' -bench 'KeyAuth|Authenticate|RequireAPIKey|Login' -benchmem ./tenants/ ./api/ 2>&1 | grep -E '^(Benchmark|ok)' | tee "$out/auth.txt"
	go test -run '^$' -bench 'ReserveSettle' -benchmem -benchtime 2000x ./billing/meter/ 2>&1 | grep -E '^(Benchmark|ok)' | tee "$out/meter.txt"
	go test -run '^$' -bench 'HotPath|Estimat|Parse' -benchmem ./routing/ 2>&1 | grep -E '^(Benchmark|ok)' | tee "$out/routing.txt"
	go test -run '^$' -bench 'LedgerWrite' -benchmem ./billing/ledger/ 2>&1 | grep -E '^(Benchmark|ok)' | tee "$out/ledger.txt"
	go test -run '^$' -bench 'InvoiceRun1000' -benchtime 1x ./billing/invoicing/ 2>&1 | grep -E '^(Benchmark|ok)' | tee "$out/invoice.txt"
	TOLLGATE_BENCH_TENANTS=${BENCH_TENANTS:-1000} go test -count=1 -timeout 30m -run 'TestProvisioningAtScale' -v ./tenants/ 2>&1 | grep BENCH | tee "$out/tenants.txt"
fi

admin_url=${TOLLGATE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
db="tg_bench_$$"
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
db_url="${admin_url%/*}/$db?sslmode=disable"
trap 'cleanup; psql "$admin_url" -qc "DROP DATABASE IF EXISTS '$db' WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

up_port=$(free_port)
"$tmp/upstream" -addr "127.0.0.1:$up_port" >/dev/null &
pids+=($!)
wait_http "http://127.0.0.1:$up_port/v1/chat/completions"
# A second upstream whose streamed answers take 1.5 s, as a model generating.
slow_port=$(free_port)
"$tmp/upstream" -addr "127.0.0.1:$slow_port" -stream-for 1.5s >/dev/null &
pids+=($!)
wait_http "http://127.0.0.1:$slow_port/v1/chat/completions"

run_gateway() { # name upstream-port env...
	local name=$1 upstream=$2; shift 2
	local port; port=$(free_port)
	pprof_addr=""
	[ "${BENCH_PROFILE:-}" = "1" ] && pprof_addr="127.0.0.1:$(free_port)"
	env "$@" TOLLGATE_PPROF_ADDR="$pprof_addr" TOLLGATE_ADDR="127.0.0.1:$port" OPENAI_BASE_URL="http://127.0.0.1:$upstream/v1" OPENAI_API_KEY=bench \
		TOLLGATE_LOG_LEVEL=warn TOLLGATE_ADMIN_PASSWORD=bench-admin-password \
		TOLLGATE_JWT_SECRET=bench-jwt-secret-that-is-long-enough-00000000 \
		"${gw_bin:-./bin/tollgate}" serve >"$tmp/$name.log" 2>&1 &
	gw_pid=$!
	pids+=($gw_pid)
	gw_url="http://127.0.0.1:$port"
	wait_http "$gw_url/healthz"
}
stop_gateway() { kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { echo "{\"mode\":\"$1\",\"metric\":\"$2\",\"value\":$3}" >>"$out/table.jsonl"; }

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
sbody='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
dur=${BENCH_DURATION:-15s}
lg() { "$tmp/loadgen" -duration "$dur" "$@" | tee -a "$out/load.jsonl"; }
: >"$out/load.jsonl"
: >"$out/table.jsonl"

# Each mode: a fresh gateway (Go GC defaults, nothing tuned), its idle RSS, then
# direct and through Tollgate interleaved at 1,000 and 3,000 req/s with the
# gateway's CPU over the 3,000 req/s run, its peak RSS; then, on a fresh gateway
# in front of the slow upstream, 1,000 streams/s of 1.5 s (about 1,500 in flight)
# with the RSS added per in-flight stream.
multi_env=(TOLLGATE_MODE=multi-tenant TOLLGATE_DATABASE_URL="$db_url" TOLLGATE_REDIS_URL="${TOLLGATE_TEST_REDIS_CLUSTER:-}" TOLLGATE_SPOOL_DIR="$tmp/spool-mt")
self_env=(TOLLGATE_DATABASE_URL="sqlite://$tmp/selfhost/tollgate.db" TOLLGATE_SPOOL_DIR="$tmp/spool-sh")
mode_env() { if [ "$1" = multi-tenant ]; then printf '%s\n' "${multi_env[@]}"; else printf '%s\n' "${self_env[@]}"; fi; }
mode_db() { if [ "$1" = multi-tenant ]; then echo "$db_url"; else echo "sqlite://$tmp/selfhost/tollgate.db"; fi; }

# profile NAME SECONDS: a CPU profile of the gateway taken in the background.
profile() {
	[ -n "$pprof_addr" ] || return 0
	mkdir -p "$out/profiles"
	curl -fs -o "$out/profiles/$1.cpu.pb.gz" "http://$pprof_addr/debug/pprof/profile?seconds=$2" &
	prof_pid=$!
}
wait_profiles() { [ -z "${prof_pid:-}" ] || wait "$prof_pid" || true; prof_pid=""; }
heap_profile() {
	[ -n "$pprof_addr" ] || return 0
	curl -fs -o "$out/profiles/$1.heap.pb.gz" "http://$pprof_addr/debug/pprof/heap"
	curl -fs -o "$out/profiles/$1.allocs.pb.gz" "http://$pprof_addr/debug/pprof/allocs"
}

for mode in ${BENCH_MODES:-multi-tenant self-host}; do
	mapfile -t env_now < <(mode_env $mode)
	mdb=$(mode_db $mode)
	log "$mode: start, idle RSS"
	run_gateway "$mode" "$up_port" "${env_now[@]}"
	tenant=default
	if [ $mode = multi-tenant ]; then
		tenant=bench
		TOLLGATE_DATABASE_URL="$mdb" ./bin/tollgate tenants create --name bench >/dev/null
	fi
	key=$(TOLLGATE_DATABASE_URL="$mdb" ./bin/tollgate keys create --tenant $tenant --name load --json | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
	TOLLGATE_DATABASE_URL="$mdb" ./bin/tollgate budgets set --tenant $tenant --period month --limit-usd 100000 --hard >/dev/null
	# A fresh start with nothing served: what an idle gateway holds.
	stop_gateway
	# The same binary as a package or image installs it (copied with write(2)).
	# Fresh from the linker, the kernel may keep its pages in 2 MB folios and map
	# them whole (FilePmdMapped in smaps), so every touched byte makes 2 MB count.
	install -m 0755 bin/tollgate "$tmp/installed-tollgate"
	gw_bin="$tmp/installed-tollgate" run_gateway "$mode" "$up_port" "${env_now[@]}"
	sleep 3
	metric "$mode" idle_rss_installed_kb "$(rss_kb $gw_pid)"
	stop_gateway
	run_gateway "$mode" "$up_port" "${env_now[@]}"
	sleep 3
	metric "$mode" idle_rss_kb "$(rss_kb $gw_pid)"
	"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "$gw_url/v1/chat/completions" -key "$key" -body "$body" >/dev/null
	for rate in ${BENCH_RATES:-1000 3000}; do
		lg -rate $rate -name "$mode direct json" -url "http://127.0.0.1:$up_port/v1/chat/completions" -body "$body" >/dev/null
		profile "$mode-$rate" $((${dur%s} - 2))
		t0=$(cpu_ticks $gw_pid)
		lg -rate $rate -name "$mode tollgate json" -url "$gw_url/v1/chat/completions" -key "$key" -body "$body" >/dev/null
		t1=$(cpu_ticks $gw_pid)
		metric "$mode" "cpu_pct_$rate" "$(awk -v a=$t0 -v b=$t1 -v d=${dur%s} 'BEGIN{print (b-a)/d}')"
		wait_profiles
		heap_profile "$mode-$rate"
	done
	metric "$mode" peak_rss_kb "$(hwm_kb $gw_pid)"
	if [ $mode = multi-tenant ] && [ "${BENCH_SKIP_MAX:-}" != "1" ]; then
		for rate in ${BENCH_MAX_RATES:-4000 5000 6000 8000}; do
			r=$("$tmp/loadgen" -duration 5s -rate $rate -name "tollgate max-rate probe" -url "$gw_url/v1/chat/completions" -key "$key" -body "$body")
			echo "$r" >>"$out/load.jsonl"
			case "$r" in *'"error_pct":0,'*|*'"error_pct":0.'*) ;; *) break ;; esac
		done
	fi
	stop_gateway
	[ "${BENCH_SKIP_STREAM:-}" = "1" ] && continue

	log "$mode: 1,000 streams/s of 1.5 s"
	run_gateway "$mode-stream" "$slow_port" "${env_now[@]}"
	"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "$gw_url/v1/chat/completions" -key "$key" -body "$sbody" >/dev/null
	sleep 2
	before=$(rss_kb $gw_pid)
	"$tmp/loadgen" -duration 12s -rate 1000 -timeout 10s -name "$mode tollgate stream 1.5s" -url "$gw_url/v1/chat/completions" -key "$key" -body "$sbody" | tee -a "$out/load.jsonl" >/dev/null &
	lgpid=$!
	# From 4 s in, ~1,500 streams are in flight: sample the RSS a few times.
	sleep 4
	peak=0
	for _ in 1 2 3 4 5; do r=$(rss_kb $gw_pid); [ "$r" -gt "$peak" ] && peak=$r; sleep 1; done
	wait $lgpid
	metric "$mode" stream_rss_before_kb "$before"
	metric "$mode" stream_rss_inflight_kb "$peak"
	metric "$mode" stream_kb_per_inflight "$(awk -v a=$before -v b=$peak 'BEGIN{printf "%.1f", (b-a)/1500}')"
	stop_gateway
done
[ "${BENCH_SKIP_STREAM:-}" = "1" ] || "$tmp/loadgen" -duration 12s -rate 1000 -timeout 10s -name "direct stream 1.5s" -url "http://127.0.0.1:$slow_port/v1/chat/completions" -body "$sbody" | tee -a "$out/load.jsonl" >/dev/null

python3 scripts/bench-table.py "$out/load.jsonl" "$out/table.jsonl" | tee "$out/table.md"

if [ "${BENCH_SKIP_TRACING:-}" != "1" ]; then
	log "tracing overhead: off vs OTLP/HTTP vs OTLP/gRPC at 1,000 req/s (self-host)"
	./scripts/bench-tracing.sh
fi
log "done: results in $out/"
