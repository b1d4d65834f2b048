#!/bin/sh
# Creates the tollgate system user and group before the files are unpacked (the
# config file and data directory belong to them). Under `dpkg --root DIR` the
# scripts run outside a chroot with DPKG_ROOT=DIR: every change then goes to DIR,
# never to the running system.
set -e
root="${DPKG_ROOT:-}"
prefix=""
[ -n "$root" ] && prefix="--prefix $root"

if ! grep -q '^tollgate:' "$root/etc/group" 2>/dev/null; then
	# shellcheck disable=SC2086
	groupadd $prefix --system tollgate
fi
if ! grep -q '^tollgate:' "$root/etc/passwd" 2>/dev/null; then
	# shellcheck disable=SC2086
	useradd $prefix --system --gid tollgate --home-dir /var/lib/tollgate --no-create-home \
		--shell /usr/sbin/nologin --comment "Tollgate gateway" tollgate
fi
exit 0
