#!/bin/sh
# Stops the service when the package is removed (not on upgrade: dpkg passes
# "upgrade", rpm "1"). Data in /var/lib/tollgate and the config stay.
set -e
[ -n "${DPKG_ROOT:-}" ] && exit 0
case "${1:-}" in
upgrade | 1) exit 0 ;;
esac
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now tollgate.service || true
fi
exit 0
