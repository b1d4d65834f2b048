#!/bin/sh
# Owns the data directory, then tells systemd about the unit. On an upgrade a
# running service restarts on the new binary; a fresh install is not started
# (edit /etc/tollgate/tollgate.env, then: systemctl enable --now tollgate).
set -e
root="${DPKG_ROOT:-}"
install -d -m 0750 "$root/var/lib/tollgate"
if [ -n "$root" ]; then
	# Outside a chroot: name the owner by the ids in the target's own passwd.
	uid=$(awk -F: '$1=="tollgate"{print $3}' "$root/etc/passwd")
	gid=$(awk -F: '$1=="tollgate"{print $3}' "$root/etc/group")
	chown "$uid:$gid" "$root/var/lib/tollgate"
	chgrp "$gid" "$root/etc/tollgate/tollgate.env"
	exit 0
fi
chown tollgate:tollgate /var/lib/tollgate
chgrp tollgate /etc/tollgate/tollgate.env
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	# dpkg passes "configure <old version>", rpm "2" on upgrade.
	if [ -n "${2:-}" ] || [ "${1:-}" = "2" ]; then
		systemctl try-restart tollgate.service || true
	fi
fi
exit 0
