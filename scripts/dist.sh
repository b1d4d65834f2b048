#!/usr/bin/env bash
# dist.sh [GOOS/GOARCH ...]: release artifacts into $DIST_DIR (default dist/).
#
#   linux/amd64, linux/arm64  tollgate-V-linux-ARCH.tar.gz, tollgate_V_ARCH.deb, tollgate-V.ARCH.rpm
#   windows/amd64             tollgate-V-windows-amd64.zip
#   and SHA256SUMS over everything in $DIST_DIR.
#
# Default targets: all three. The binary uses cgo (SQLite through mattn/go-sqlite3),
# so each target needs its C cross-compiler: gcc on the host's own architecture,
# aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu) for linux/arm64 and
# x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64) for windows/amd64. macOS
# cannot be cross-built with cgo: .github/workflows/release.yml builds it on a
# macOS runner.
#
# The version, commit and date are stamped with -ldflags (`tollgate version`).
# Packages are made by nfpm (infra/packaging/nfpm.yaml), run with `go run` at a
# pinned version: nothing to install by hand. The console must already be built
# into frontend/dist (`make dist` does that first).
#
# Env: VERSION, COMMIT, DATE (defaults from git and the clock; SOURCE_DATE_EPOCH
# is honoured), DIST_DIR, NFPM (command to run nfpm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	DATE=${DATE:-$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)}
else
	DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
fi
DIST_DIR=${DIST_DIR:-dist}
NFPM=${NFPM:-go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(linux/amd64 linux/arm64 windows/amd64)

# Package versions must start with a digit: v1.2.3 → 1.2.3, v1.2.3-rc1 → 1.2.3~rc1
# (sorts before 1.2.3), an untagged commit → 0.0.0~git<short>.
if [[ $VERSION =~ ^v?([0-9]+\.[0-9]+(\.[0-9]+)?)(-(.*))?$ ]]; then
	pkg_version=${BASH_REMATCH[1]}
	[ -n "${BASH_REMATCH[4]}" ] && pkg_version+="~${BASH_REMATCH[4]//-/.}"
else
	pkg_version="0.0.0~git${COMMIT:0:12}"
fi

log() { echo "dist: $*" >&2; }

if [ ! -f frontend/dist/index.html ]; then
	log "warning: frontend/dist has no built console; the binaries will show 'console not built' (run make dist)"
fi

host_arch=$(go env GOHOSTARCH)
mkdir -p "$DIST_DIR"
DIST_DIR=$(cd "$DIST_DIR" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc_for() {
	case "$1" in
	linux/amd64) [ "$host_arch" = amd64 ] && echo gcc || echo x86_64-linux-gnu-gcc ;;
	linux/arm64) [ "$host_arch" = arm64 ] && echo gcc || echo aarch64-linux-gnu-gcc ;;
	windows/amd64) echo x86_64-w64-mingw32-gcc ;;
	*) return 1 ;;
	esac
}

apt_for() {
	case "$1" in
	aarch64-linux-gnu-gcc) echo gcc-aarch64-linux-gnu ;;
	x86_64-linux-gnu-gcc) echo gcc-x86-64-linux-gnu ;;
	x86_64-w64-mingw32-gcc) echo gcc-mingw-w64-x86-64 ;;
	*) echo gcc ;;
	esac
}

build() { # target → path of the binary
	local target=$1 goos=${1%/*} goarch=${1#*/} cc exe=tollgate
	cc=$(cc_for "$target") || {
		log "unknown target $target (known: linux/amd64 linux/arm64 windows/amd64)"
		exit 2
	}
	if ! command -v "$cc" >/dev/null; then
		log "$target needs the C compiler $cc: apt-get install -y $(apt_for "$cc")"
		exit 1
	fi
	[ "$goos" = windows ] && exe=tollgate.exe
	local out="$work/$goos-$goarch/$exe"
	log "building $target with $cc"
	CGO_ENABLED=1 GOOS=$goos GOARCH=$goarch CC=$cc go build -trimpath -tags "${GO_TAGS:-nomsgpack}" \
		-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE" \
		-o "$out" ./cmd/tollgate
	echo "$out"
}

for target in "${targets[@]}"; do
	goos=${target%/*}
	goarch=${target#*/}
	bin=$(build "$target")
	name="tollgate-$VERSION-$goos-$goarch"
	stage="$work/$name"
	mkdir -p "$stage"
	cp "$bin" README.md "$stage/"
	case "$goos" in
	linux)
		cp infra/packaging/tollgate.service infra/packaging/tollgate.env infra/packaging/tollgate.desktop infra/packaging/tollgate.png "$stage/"
		tar -C "$work" --owner=0 --group=0 --sort=name -czf "$DIST_DIR/$name.tar.gz" "$name"
		for packager in deb rpm; do
			log "packaging $target as .$packager"
			TOLLGATE_PKG_ARCH=$goarch TOLLGATE_PKG_VERSION=$pkg_version TOLLGATE_BINARY=$bin \
				$NFPM package --config infra/packaging/nfpm.yaml --packager "$packager" --target "$DIST_DIR/" >&2
		done
		;;
	windows)
		rm -f "$DIST_DIR/$name.zip"
		(cd "$work" && zip -qr "$DIST_DIR/$name.zip" "$name")
		;;
	esac
done

(cd "$DIST_DIR" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
log "artifacts in $DIST_DIR:"
(cd "$DIST_DIR" && ls -l) >&2
