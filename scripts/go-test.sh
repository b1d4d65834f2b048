#!/usr/bin/env bash
# go-test.sh [PACKAGES...]: runs the Go tests verbosely into bin/go-test.log and prints
# a short report: each package's result, every skipped test with its reason, every
# failure, and the counts (integration tests included), so a skip can never hide.
set -uo pipefail
mkdir -p bin
log=bin/go-test.log
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=(./...)
go test -count=1 -timeout 15m -v "${pkgs[@]}" >"$log" 2>&1
rc=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- (FAIL|SKIP)' "$log" | grep -vE '^\s*--- PASS' || true
echo
grep -B2 -A20 -E '^\s*--- FAIL' "$log" | head -200 || true
pass=$(grep -cE '^\s*--- PASS' "$log")
skip=$(grep -cE '^\s*--- SKIP' "$log")
fail=$(grep -cE '^\s*--- FAIL' "$log")
pg=$(grep -E '^\s*--- PASS' "$log" | grep -ciE 'postgres' || true)
redis=$(grep -E '^\s*--- PASS' "$log" | grep -ciE 'redis|cluster' || true)
echo "go test: $pass passed ($pg named for Postgres, $redis for Redis), $skip skipped, $fail failed; full log in $log"
if [ "${CI:-}" = "true" ] && [ "$skip" -gt 0 ]; then
	echo "go test: CI=true and $skip test(s) skipped: every test must run in CI (see the SKIP lines above)"
	exit 1
fi
exit $rc
