#!/usr/bin/env bash
# bench.sh: the benchmarks behind the issues' figures (run by `make bench` under
# scripts/test-services.sh, which provides Postgres, a Redis Cluster and stripe-mock).
#  1. Go benchmarks: API-key auth, meter reserve+settle, routing hot path, ledger
#     writes, invoice run for 1,000 tenants, tenant provisioning at 1,000 tenants.
#  2. A loopback load run: a minimal OpenAI-compatible upstream called directly and
#     through Tollgate (auth, routing, reservation on the Redis Cluster, ledger on
#     Postgres all on), open loop at 1,000 and 3,000 req/s, JSON and streaming (TTFB),
#     then rising rates to find the highest held with < 1% errors; peak RSS.
#  3. Self-host mode (SQLite, in-process meter, a hard budget enforced) at 1,000 req/s.
#  4. OpenTelemetry tracing off vs on (scripts/bench-tracing.sh); BENCH_SKIP_TRACING=1 skips it.
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

go build -o bin/tollgate ./cmd/tollgate
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

run_gateway() { # name env...
	local name=$1; shift
	local port; port=$(free_port)
	env "$@" TOLLGATE_ADDR="127.0.0.1:$port" OPENAI_BASE_URL="http://127.0.0.1:$up_port/v1" OPENAI_API_KEY=bench \
		TOLLGATE_LOG_LEVEL=warn TOLLGATE_ADMIN_PASSWORD=bench-admin-password \
		TOLLGATE_JWT_SECRET=bench-jwt-secret-that-is-long-enough-00000000 \
		./bin/tollgate serve >"$tmp/$name.log" 2>&1 &
	gw_pid=$!
	pids+=($gw_pid)
	gw_url="http://127.0.0.1:$port"
	wait_http "$gw_url/healthz"
}

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
sbody='{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say ok"}],"max_tokens":1}'
dur=${BENCH_DURATION:-10s}
lg() { "$tmp/loadgen" -duration "$dur" "$@" | tee -a "$out/load.jsonl"; }
: >"$out/load.jsonl"

log "multi-tenant: Postgres + Redis Cluster (${TOLLGATE_TEST_REDIS_CLUSTER:-none})"
menv=(TOLLGATE_MODE=multi-tenant TOLLGATE_DATABASE_URL="$db_url" TOLLGATE_REDIS_URL="${TOLLGATE_TEST_REDIS_CLUSTER:-}" TOLLGATE_SPOOL_DIR="$tmp/spool-mt")
run_gateway multi "${menv[@]}"
TOLLGATE_DATABASE_URL="$db_url" ./bin/tollgate tenants create --name bench >/dev/null
key=$(TOLLGATE_DATABASE_URL="$db_url" ./bin/tollgate keys create --tenant bench --name load --json | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
TOLLGATE_DATABASE_URL="$db_url" ./bin/tollgate budgets set --tenant bench --period month --limit-usd 100000 --hard >/dev/null
"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "$gw_url/v1/chat/completions" -key "$key" -body "$body" >/dev/null
for rate in 1000 3000; do
	lg -rate $rate -name "direct json" -url "http://127.0.0.1:$up_port/v1/chat/completions" -body "$body" >/dev/null
	lg -rate $rate -name "tollgate json" -url "$gw_url/v1/chat/completions" -key "$key" -body "$body" >/dev/null
done
lg -rate 1000 -name "direct stream" -url "http://127.0.0.1:$up_port/v1/chat/completions" -body "$sbody" >/dev/null
lg -rate 1000 -name "tollgate stream" -url "$gw_url/v1/chat/completions" -key "$key" -body "$sbody" >/dev/null
echo "peak RSS (multi-tenant gateway) after the 1,000 and 3,000 req/s runs: $(grep VmHWM /proc/$gw_pid/status)" | tee "$out/rss.txt"
for rate in ${BENCH_MAX_RATES:-4000 5000 6000 8000}; do
	r=$("$tmp/loadgen" -duration 5s -rate $rate -name "tollgate max-rate probe" -url "$gw_url/v1/chat/completions" -key "$key" -body "$body")
	echo "$r" >>"$out/load.jsonl"
	case "$r" in *'"error_pct":0,'*|*'"error_pct":0.'*) ;; *) break ;; esac
done
echo "peak RSS (multi-tenant gateway) after the max-rate probes (overload included): $(grep VmHWM /proc/$gw_pid/status)" | tee -a "$out/rss.txt"
kill $gw_pid; wait $gw_pid 2>/dev/null || true

log "self-host: SQLite, in-process meter, hard budget enforced"
run_gateway selfhost TOLLGATE_DATABASE_URL="sqlite://$tmp/selfhost/tollgate.db"
skey=$(TOLLGATE_DATABASE_URL="sqlite://$tmp/selfhost/tollgate.db" ./bin/tollgate keys create --tenant default --name load --json | sed -n 's/.*"secret": *"\([^"]*\)".*/\1/p')
TOLLGATE_DATABASE_URL="sqlite://$tmp/selfhost/tollgate.db" ./bin/tollgate budgets set --tenant default --period month --limit-usd 100000 --hard >/dev/null
sleep 2.5 # the budget cache TTL: the budget is in force for the measured run
"$tmp/loadgen" -duration 3s -rate 300 -name warmup -url "$gw_url/v1/chat/completions" -key "$skey" -body "$body" >/dev/null
lg -rate 1000 -name "self-host tollgate json" -url "$gw_url/v1/chat/completions" -key "$skey" -body "$body" >/dev/null
echo "peak RSS (self-host gateway): $(grep VmHWM /proc/$gw_pid/status)" | tee -a "$out/rss.txt"
kill $gw_pid; wait $gw_pid 2>/dev/null || true

if [ "${BENCH_SKIP_TRACING:-}" != "1" ]; then
	log "tracing overhead: off vs OTLP/HTTP vs OTLP/gRPC at 1,000 req/s (self-host)"
	./scripts/bench-tracing.sh
fi
log "done: results in $out/"
