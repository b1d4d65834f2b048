#!/usr/bin/env bash
# test-services.sh CMD [ARGS...]
#
# Starts the real services the test suite needs, exports where they are, runs CMD,
# and tears everything down afterwards (also on failure or Ctrl-C):
#   Postgres       TOLLGATE_TEST_DATABASE_URL   the local server on 127.0.0.1:5432 when it
#                                               answers, else a throwaway initdb cluster
#   Redis Cluster  TOLLGATE_TEST_REDIS_CLUSTER  3 masters on free loopback ports
#   Redis          TOLLGATE_TEST_REDIS_URL      127.0.0.1:6379 when it answers, else a throwaway one
#   stripe-mock    TOLLGATE_TEST_STRIPE_URL     installed with `go install` when missing
# A missing binary is reported with the package that provides it. With CI=true a
# missing service fails the run; otherwise the tests that need it skip and say so.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-test.XXXXXX")
pids=()
pg_data=""
ci=${CI:-false}

log() { echo "test-services: $*" >&2; }
missing() {
	log "$1 is not available: $2"
	if [ "$ci" = "true" ]; then
		log "CI=true: a missing service fails the run"
		exit 1
	fi
}

cleanup() {
	[ -d "$tmp/redis-cluster" ] && "$here/redis-cluster.sh" stop "$tmp/redis-cluster" >/dev/null 2>&1
	[ -d "$tmp/stripe" ] && "$here/stripe-mock.sh" stop "$tmp/stripe" >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$pg_data" ]; then
		run_pg pg_ctl -D "$pg_data" -m immediate stop >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 30000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

# run_pg runs a Postgres server binary, as the postgres user when we are root
# (initdb and postgres refuse to run as root).
run_pg() {
	if [ "$(id -u)" = "0" ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# --- Postgres ---------------------------------------------------------------
if [ -z "${TOLLGATE_TEST_DATABASE_URL:-}" ]; then
	if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 -t 2; then
		export TOLLGATE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		log "Postgres: using the local server on 127.0.0.1:5432"
	elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		port=$(free_port)
		pg_data="$tmp/pg"
		mkdir -p "$pg_data" && chmod 777 "$tmp" && { [ "$(id -u)" != "0" ] || chown postgres "$pg_data"; }
		if run_pg initdb -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1 &&
			run_pg pg_ctl -w -D "$pg_data" -l "$tmp/pg.log" start -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null; then
			export TOLLGATE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			log "Postgres: throwaway cluster on 127.0.0.1:$port"
		else
			pg_data=""
			missing "Postgres" "initdb/pg_ctl failed (see $tmp/initdb.log)"
		fi
	else
		missing "Postgres" "no server on 127.0.0.1:5432 and no initdb (apt-get install postgresql)"
	fi
fi

# --- Redis Cluster and standalone Redis -------------------------------------
if [ -z "${TOLLGATE_TEST_REDIS_CLUSTER:-}" ]; then
	if seeds=$("$here/redis-cluster.sh" start "$tmp/redis-cluster"); then
		export TOLLGATE_TEST_REDIS_CLUSTER="$seeds"
		log "Redis Cluster: $seeds"
	else
		missing "Redis Cluster" "redis-cluster.sh failed (apt-get install redis-server)"
	fi
fi
if [ -z "${TOLLGATE_TEST_REDIS_URL:-}" ]; then
	if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
		export TOLLGATE_TEST_REDIS_URL="redis://127.0.0.1:6379"
	elif command -v redis-server >/dev/null 2>&1; then
		port=$(free_port)
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
		export TOLLGATE_TEST_REDIS_URL="redis://127.0.0.1:$port"
	else
		missing "Redis" "redis-server not found (apt-get install redis-server)"
	fi
	log "Redis: ${TOLLGATE_TEST_REDIS_URL:-none}"
fi

# --- stripe-mock --------------------------------------------------------------
if [ -z "${TOLLGATE_TEST_STRIPE_URL:-}" ]; then
	gobin="$(go env GOPATH)/bin"
	if ! command -v stripe-mock >/dev/null 2>&1 && [ ! -x "$gobin/stripe-mock" ]; then
		log "installing stripe-mock (go install github.com/stripe/stripe-mock@v0.203.0)"
		go install github.com/stripe/stripe-mock@v0.203.0 >&2 || true
	fi
	if url=$(STRIPE_MOCK_BIN="${STRIPE_MOCK_BIN:-$gobin/stripe-mock}" "$here/stripe-mock.sh" start "$tmp/stripe"); then
		export TOLLGATE_TEST_STRIPE_URL="$url"
		log "stripe-mock: $url"
	else
		missing "stripe-mock" "could not start it (go install github.com/stripe/stripe-mock@v0.203.0)"
	fi
fi

"$@"
