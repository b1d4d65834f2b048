#!/usr/bin/env bash
# stripe-mock.sh start|stop <dir>
#
# start: runs stripe-mock on loopback, HTTP and HTTPS both on ports the kernel
#        picks (so they are free), records its PID in <dir>/stripe-mock.pid, waits
#        until it answers, then prints the base URL (http://127.0.0.1:PORT) and
#        writes it to <dir>/url. Its log is <dir>/stripe-mock.log.
# stop:  stops the PID recorded in <dir>/stripe-mock.pid, and only that one.
#
# The binary is $STRIPE_MOCK_BIN, else stripe-mock on PATH, else $(go env GOPATH)/bin.
# -strict-version-check stays off: stripe-go v76 sends Stripe-Version 2023-10-16,
# older than stripe-mock's spec.
set -euo pipefail

usage() {
	echo "usage: $0 start|stop <dir>" >&2
	exit 64
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
pidfile="$dir/stripe-mock.pid"

find_bin() {
	if [ -n "${STRIPE_MOCK_BIN:-}" ] && [ -x "$STRIPE_MOCK_BIN" ]; then
		echo "$STRIPE_MOCK_BIN"
		return
	fi
	if command -v stripe-mock >/dev/null 2>&1; then
		command -v stripe-mock
		return
	fi
	local gopath
	gopath=$(go env GOPATH 2>/dev/null || echo "$HOME/go")
	if [ -x "$gopath/bin/stripe-mock" ]; then
		echo "$gopath/bin/stripe-mock"
	fi
}

alive() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

case "$cmd" in
start)
	bin=$(find_bin)
	if [ -z "$bin" ]; then
		echo "stripe-mock not found; install with: go install github.com/stripe/stripe-mock@v0.203.0" >&2
		exit 2
	fi
	mkdir -p "$dir"
	if alive && [ -s "$dir/url" ]; then
		cat "$dir/url"
		exit 0
	fi
	log="$dir/stripe-mock.log"
	: >"$log"
	# Port-less addresses let the kernel choose free ports; the log says which.
	"$bin" -http-addr 127.0.0.1: -https-addr 127.0.0.1: </dev/null >"$log" 2>&1 &
	echo $! >"$pidfile"
	url=""
	for _ in $(seq 1 150); do
		if ! alive; then
			echo "stripe-mock exited; log:" >&2
			cat "$log" >&2
			rm -f "$pidfile"
			exit 1
		fi
		addr=$(sed -n 's/^Listening for HTTP at address: //p' "$log" | head -n1)
		if [ -n "$addr" ] && curl -s -o /dev/null -H 'Authorization: Bearer sk_test_123' "http://$addr/v1/customers"; then
			url="http://$addr"
			break
		fi
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "stripe-mock did not answer within 15 s; log:" >&2
		cat "$log" >&2
		kill "$(cat "$pidfile")" 2>/dev/null || true
		rm -f "$pidfile"
		exit 1
	fi
	echo "$url" >"$dir/url"
	echo "$url"
	;;
stop)
	if [ ! -f "$pidfile" ]; then
		exit 0
	fi
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$pidfile" "$dir/url"
	;;
*)
	usage
	;;
esac
