#!/usr/bin/env bash
# dist-test.sh: `make dist` for linux/amd64 (and windows/amd64), checked.
#
#   - the tarball's binary runs `version` and carries the stamped version and commit;
#   - dpkg-deb shows the systemd unit, the env file (a conffile) and the .desktop entry;
#   - the .deb installs into a throwaway root (dpkg --root, maintainer scripts run
#     outside a chroot with DPKG_ROOT set) and its scripts create the tollgate user
#     there; reinstalling it (an upgrade) keeps an edited env file and the data;
#     the host's /etc/passwd and /etc/group are bind-mounted read-only copies
#     meanwhile, and checked unchanged after;
#   - the .rpm lists the same files and scripts (rpm -qp);
#   - the Windows .exe is a PE32+ x86-64 file; SHA256SUMS verifies.
#
# Missing tools (dpkg, file, mingw-w64, rpm, zip) are installed with apt-get when we
# are root; otherwise the run is skipped loudly, or fails under CI=true.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ci=${CI:-false}

log() { echo "dist-test: $*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}
skip_or_fail() {
	if [ "$ci" = "true" ]; then
		fail "(CI=true) $*"
	fi
	log "############################################################"
	log "SKIPPED: the packaging test did not run: $*"
	log "############################################################"
	exit 0
}

need=()
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v file >/dev/null || need+=(file)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v rpm >/dev/null || need+=(rpm)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing ${need[*]}"
		apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; } ||
			skip_or_fail "cannot install ${need[*]}"
	else
		skip_or_fail "missing ${need[*]} (apt-get install -y ${need[*]})"
	fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/dist"
version="9.8.7-test"
commit=$(git rev-parse HEAD 2>/dev/null || echo 0123456789abcdef0123456789abcdef01234567)
start=$(date +%s)
if [ -n "${DIST_TEST_PREBUILT:-}" ]; then
	# Debugging aid: check artifacts built earlier with the same VERSION/COMMIT/DATE.
	cp -r "$DIST_TEST_PREBUILT" "$out"
else
	VERSION=v$version COMMIT=$commit DATE=2026-01-02T03:04:05Z DIST_DIR=$out ./scripts/dist.sh linux/amd64 windows/amd64
fi
log "dist built in $(($(date +%s) - start)) s"
ls -l "$out" >&2

# The tarball's binary runs and is stamped.
tarball="$out/tollgate-v$version-linux-amd64.tar.gz"
[ -f "$tarball" ] || fail "no $tarball"
tar -C "$work" -xzf "$tarball"
got=$("$work/tollgate-v$version-linux-amd64/tollgate" version)
echo "$got" | grep -q "^tollgate v$version (commit [0-9a-f]\{40\}, built " || fail "version: $got"
[ -n "${DIST_TEST_PREBUILT:-}" ] || echo "$got" | grep -q "(commit $commit, built 2026-01-02T03:04:05Z" || fail "version stamps: $got"
for f in tollgate.service tollgate.env tollgate.desktop tollgate.png README.md; do
	[ -f "$work/tollgate-v$version-linux-amd64/$f" ] || fail "tarball lacks $f"
done

# The .deb's contents and control data.
deb="$out/tollgate_${version/-/\~}_amd64.deb"
[ -f "$deb" ] || deb=$(ls "$out"/tollgate_*_amd64.deb)
contents=$(dpkg-deb -c "$deb")
for p in ./usr/bin/tollgate ./usr/lib/systemd/system/tollgate.service ./etc/tollgate/tollgate.env \
	./usr/share/applications/tollgate.desktop ./usr/share/icons/hicolor/256x256/apps/tollgate.png ./var/lib/tollgate/; do
	echo "$contents" | grep -qE " $p\$" || fail ".deb lacks $p"
done
dpkg-deb -f "$deb" Version | grep -qx "${version/-/\~}-1" || fail ".deb version $(dpkg-deb -f "$deb" Version)"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/tollgate/tollgate.env "$work/control/conffiles" || fail "the env file is not a conffile"
grep -q '^ExecStart=/usr/bin/tollgate serve' <<<"$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/lib/systemd/system/tollgate.service)" ||
	fail "the unit does not run tollgate serve"
grep -q '^Exec=tollgate desktop' <<<"$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/applications/tollgate.desktop)" ||
	fail "the .desktop entry does not run tollgate desktop"

# Install into a throwaway root. The root has its own minimal passwd and group; the
# host's are shadowed by read-only copies for the duration, so a script that went
# astray could not change them.
host_sums=$(sha256sum /etc/passwd /etc/group)
r="$work/root"
mkdir -p "$r/etc" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/usr/sbin"
: >"$r/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\n' >"$r/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
printf 'root:*::\n' >"$r/etc/gshadow"
chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
dpkg_install() {
	local cmd="dpkg --root=$r --admindir=$r/var/lib/dpkg --log=/dev/null --force-not-root --force-script-chrootless --force-depends --force-confold -i $deb"
	if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
		cp /etc/passwd "$work/passwd.ro"
		cp /etc/group "$work/group.ro"
		unshare -m --propagation private sh -c "mount --bind -o ro $work/passwd.ro /etc/passwd && mount -o remount,ro,bind /etc/passwd 2>/dev/null; mount --bind $work/group.ro /etc/group && mount -o remount,ro,bind /etc/group 2>/dev/null; $cmd"
	else
		sh -c "$cmd"
	fi
}
dpkg_install >"$work/dpkg.log" 2>&1 || {
	cat "$work/dpkg.log" >&2
	fail "dpkg -i into the throwaway root"
}
[ "$(sha256sum /etc/passwd /etc/group)" = "$host_sums" ] || fail "the host's /etc/passwd or /etc/group changed"
grep -q '^tollgate:x:[0-9]*:[0-9]*:Tollgate gateway:/var/lib/tollgate:/usr/sbin/nologin$' "$r/etc/passwd" ||
	fail "no tollgate system user in the root's passwd: $(cat "$r/etc/passwd")"
grep -q '^tollgate:' "$r/etc/group" || fail "no tollgate group"
uid=$(awk -F: '$1=="tollgate"{print $3}' "$r/etc/passwd")
[ "$uid" -lt 1000 ] || fail "tollgate uid $uid is not a system uid"
[ "$(stat -c %u "$r/var/lib/tollgate")" = "$uid" ] || fail "/var/lib/tollgate is not owned by tollgate"
[ "$(stat -c %a "$r/etc/tollgate/tollgate.env")" = 640 ] || fail "env file mode"
[ -x "$r/usr/bin/tollgate" ] || fail "no /usr/bin/tollgate"
grep -q "^Status: install ok installed" "$r/var/lib/dpkg/status" || fail "dpkg does not record the package as installed"

# An upgrade (the same package again) keeps the edited config, the data and the user.
echo "TOLLGATE_LOG_LEVEL=debug # edited" >>"$r/etc/tollgate/tollgate.env"
echo data >"$r/var/lib/tollgate/tollgate.db"
dpkg_install >"$work/dpkg2.log" 2>&1 || {
	cat "$work/dpkg2.log" >&2
	fail "reinstalling (upgrade)"
}
grep -q "# edited" "$r/etc/tollgate/tollgate.env" || fail "the upgrade replaced the edited env file"
[ "$(cat "$r/var/lib/tollgate/tollgate.db")" = data ] || fail "the upgrade touched the data"
[ "$(grep -c '^tollgate:' "$r/etc/passwd")" = 1 ] || fail "the upgrade added a second user"
[ "$(sha256sum /etc/passwd /etc/group)" = "$host_sums" ] || fail "the host's /etc/passwd or /etc/group changed"

# The .rpm: files, config flag, scripts.
rpmf=$(ls "$out"/tollgate-*.x86_64.rpm)
# Each listing is read whole before grep looks at it: under pipefail, `rpm … | grep -q`
# fails whenever grep exits at its match while rpm still writes (SIGPIPE).
grep -qx /usr/lib/systemd/system/tollgate.service <<<"$(rpm -qpl "$rpmf" 2>/dev/null)" || fail ".rpm lacks the unit"
grep -qx /etc/tollgate/tollgate.env <<<"$(rpm -qpc "$rpmf" 2>/dev/null)" || fail ".rpm: the env file is not %config"
grep -q "useradd" <<<"$(rpm -qp --scripts "$rpmf" 2>/dev/null)" || fail ".rpm has no user-creating script"

# Windows.
zipf="$out/tollgate-v$version-windows-amd64.zip"
unzip -q -d "$work/win" "$zipf"
grep -q "PE32+ executable.*x86-64" <<<"$(file "$work/win/tollgate-v$version-windows-amd64/tollgate.exe")" ||
	fail "tollgate.exe: $(file "$work/win/tollgate-v$version-windows-amd64/tollgate.exe")"

(cd "$out" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS"
log "sizes:"
(cd "$out" && ls -l | awk 'NR>1{printf "  %-50s %6.1f MB\n", $9, $5/1048576}') >&2
log "passed in $(($(date +%s) - start)) s"
