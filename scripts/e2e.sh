#!/usr/bin/env bash
# e2e.sh: the console, end to end, in headless Chromium against a real server.
#
# Builds nothing but the small OpenID provider of the sso flow (make has built
# bin/tollgate with the console embedded). It starts
# `tollgate serve` in self-host mode (SQLite in a temp dir, in-process meter, the
# simulated provider) on a free loopback port with a known admin password and a
# master key, creates a viewer with the CLI, runs frontend/e2e/run.mjs (flows: key
# created in the UI and used through the openai client, the request seen live,
# webhook, tiny hard budget (new budgets default soft) and its alert, the hard-budget warning
# with its refused-request count, the upcoming invoice against the usage page, revoke → 401,
# routing, viewer restrictions, the key dialog's gate and playground, the tenant switcher
# and the unknown-tenant page, keys and budgets at 390 px with every action inside the viewport,
# members/tenants search, single sign-on through a real OpenID provider's login form, a tenant price override, providers' env/stored state,
# an OpenRouter export imported as usage history (a malformed row refused by line, then seen in the usage page); then
# screenshots of every page at 1280 and 390 px, time to interactive and bundle
# size), and stops the server by PID whatever happens.
#
# Chromium: /usr/bin/chromium (TOLLGATE_E2E_CHROMIUM overrides). When missing and
# we are root, it is installed with apt-get; when that is impossible the run is
# skipped with a loud message, or fails with CI=true.
#
# Env: TOLLGATE_BIN (default bin/tollgate), TOLLGATE_E2E_FLOWS (default all),
# TOLLGATE_E2E_KEEP=1 keeps the temp dir (database and server log).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TOLLGATE_BIN:-$root/bin/tollgate}
chromium=${TOLLGATE_E2E_CHROMIUM:-/usr/bin/chromium}
ci=${CI:-false}

log() { echo "e2e: $*" >&2; }
skip_or_fail() {
	if [ "$ci" = "true" ]; then
		log "FAIL (CI=true): $*"
		exit 1
	fi
	log "############################################################"
	log "SKIPPED: the console end-to-end tests did not run: $*"
	log "############################################################"
	exit 0
}

[ -x "$bin" ] || { log "$bin is missing: run 'make build' first"; exit 1; }
command -v node >/dev/null || skip_or_fail "node is not installed"

if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
		log "installing Chromium from Debian (apt-get install -y chromium)"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 ||
			log "apt-get could not install chromium"
	fi
	[ -x "$chromium" ] || skip_or_fail "no Chromium at $chromium (install the Debian package 'chromium')"
fi

if [ ! -d "$root/frontend/node_modules/playwright-core" ] || [ ! -d "$root/frontend/node_modules/openai" ]; then
	log "installing the console's npm dependencies (npm ci)"
	(cd "$root/frontend" && npm ci --no-audit --no-fund >&2)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-e2e.XXXXXX")
pid=""
op_pid=""
cleanup() {
	local rc=$?
	if [ -n "$op_pid" ] && kill -0 "$op_pid" 2>/dev/null; then
		kill "$op_pid" 2>/dev/null || true
	fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	if [ "$rc" != 0 ] && [ -f "$tmp/server.log" ]; then
		log "server log (last 25 lines):"
		tail -n 25 "$tmp/server.log" >&2 || true
	fi
	if [ "${TOLLGATE_E2E_KEEP:-}" = "1" ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

port=$(free_port) || { log "no free loopback port"; exit 1; }
base="http://127.0.0.1:$port"
admin_email=admin@e2e.example.com
admin_password="e2e-admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
viewer_email=viewer@e2e.example.com
viewer_password="e2e-viewer-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# Single sign-on: a real OpenID provider (scripts/oidc-provider: zitadel's op
# package with its login form) on another loopback port, configured into the
# server by TOLLGATE_OIDC_*; the sso flow signs a new member in through its form.
op_secret="e2e-oidc-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sso_user=sso-dev
sso_password="e2e-sso-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sso_email=sso.dev@e2e.example.com
log "building and starting the OpenID provider on loopback"
(cd "$root" && go build -o "$tmp/oidc-provider" ./scripts/oidc-provider)
# It picks its own free port and prints "issuer <url>" once it listens.
"$tmp/oidc-provider" -addr "127.0.0.1:0" -client-id tollgate-e2e -client-secret "$op_secret" \
	-redirect-uri "$base/api/v1/auth/sso/callback" -user "$sso_user:$sso_password:$sso_email:e2e-developers" >"$tmp/oidc.log" 2>&1 &
op_pid=$!
issuer=""
for _ in $(seq 1 100); do
	issuer=$(sed -n 's/^issuer //p' "$tmp/oidc.log" | head -n1)
	[ -n "$issuer" ] && curl -fsS "$issuer/.well-known/openid-configuration" >/dev/null 2>&1 && break
	kill -0 "$op_pid" 2>/dev/null || { log "the OpenID provider exited early"; cat "$tmp/oidc.log" >&2; exit 1; }
	issuer=""
	sleep 0.1
done
[ -n "$issuer" ] || { log "the OpenID provider did not start"; exit 1; }

# A clean self-host environment: nothing from the caller's TOLLGATE_*/Stripe/provider
# settings leaks in, and the server runs from the temp dir so no .env is read.
run_env=(env -i "PATH=$PATH" "HOME=$tmp" "TMPDIR=$tmp"
	"TOLLGATE_ADDR=127.0.0.1:$port"
	"TOLLGATE_DATABASE_URL=sqlite://$tmp/tollgate.db"
	"TOLLGATE_MODE=single-tenant"
	"TOLLGATE_ADMIN_EMAIL=$admin_email"
	"TOLLGATE_ADMIN_PASSWORD=$admin_password"
	"TOLLGATE_MASTER_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
	"TOLLGATE_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
	# The webhook flow points alerts at a sink on loopback.
	"TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1"
	# The providers flow: a base URL from the environment (shown as such) that points
	# nowhere, so the key the flow stores for it can never reach a real upstream.
	"ANTHROPIC_BASE_URL=http://127.0.0.1:9"
	"TOLLGATE_OIDC_ISSUER=$issuer"
	"TOLLGATE_OIDC_CLIENT_ID=tollgate-e2e"
	"TOLLGATE_OIDC_CLIENT_SECRET=$op_secret"
	"TOLLGATE_OIDC_ALLOWED_DOMAINS=e2e.example.com"
	"TOLLGATE_OIDC_ROLE_MAPPING=e2e-developers=developer")

log "starting tollgate serve on $base (data in $tmp)"
(cd "$tmp" && exec "${run_env[@]}" "$bin" serve >"$tmp/server.log" 2>&1) &
pid=$!

ready=""
for _ in $(seq 1 150); do
	if ! kill -0 "$pid" 2>/dev/null; then log "tollgate serve exited early"; exit 1; fi
	if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
	sleep 0.2
done
[ -n "$ready" ] || { log "tollgate serve not ready after 30 s"; exit 1; }
if grep -q "console not built" <<<"$(curl -fsS "$base/")"; then
	log "the binary has no console embedded: run 'make build' (npm run build, then go build)"
	exit 1
fi

(cd "$tmp" && "${run_env[@]}" "$bin" users create --email "$viewer_email" --password "$viewer_password" --tenant default --role viewer >&2)

cd "$root/frontend"
TOLLGATE_E2E_URL="$base" \
	TOLLGATE_E2E_EMAIL="$admin_email" TOLLGATE_E2E_PASSWORD="$admin_password" \
	TOLLGATE_E2E_VIEWER_EMAIL="$viewer_email" TOLLGATE_E2E_VIEWER_PASSWORD="$viewer_password" \
	TOLLGATE_E2E_TENANT=default \
	TOLLGATE_E2E_ENV_BASE_URL_PROVIDER=anthropic \
	TOLLGATE_E2E_SSO_EMAIL="$sso_email" TOLLGATE_E2E_SSO_USERNAME="$sso_user" TOLLGATE_E2E_SSO_PASSWORD="$sso_password" \
	TOLLGATE_E2E_SSO_ROLE=developer \
	TOLLGATE_E2E_FLOWS="${TOLLGATE_E2E_FLOWS:-all}" \
	TOLLGATE_E2E_CHROMIUM="$chromium" \
	node e2e/run.mjs
