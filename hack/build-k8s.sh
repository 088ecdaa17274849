#!/usr/bin/env bash
# Prepares everything test/cluster needs to run a local control plane:
#   - etcd from Debian's etcd-server package (installed when missing),
#   - redis-server from Debian (the pod runner starts it for Redis pods),
#   - kube-apiserver and kube-controller-manager built from source (module
#     hack/k8s) into a per-version cache outside the repo.
# Idempotent: when everything is present it returns in well under a second,
# so `make test` can depend on it without rebuilding.
set -euo pipefail

K8S_VERSION="v1.34.4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
BIN_DIR="${KUBE_BIN_DIR:-$CACHE_HOME/redis-autoscaler/k8s-$K8S_VERSION/bin}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { printf '[build-k8s] %s\n' "$*" >&2; }

# apt-get update is slow; run it at most once per invocation and only when a
# package is actually missing.
apt_updated=0
apt_install() {
	local pkg="$1"
	if ! command -v apt-get >/dev/null 2>&1; then
		log "apt-get not available: install $pkg yourself"
		return 1
	fi
	local sudo=""
	if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
	if [ "$apt_updated" = 0 ]; then
		$sudo apt-get update -qq
		apt_updated=1
	fi
	log "installing $pkg"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg" >/dev/null
}

ensure_pkg() {
	local cmd="$1" pkg="$2"
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
		apt_install "$pkg"
	fi
}

ensure_pkg etcd etcd-server
ensure_pkg redis-server redis-server

missing=()
for b in "${BINARIES[@]}"; do
	[ -x "$BIN_DIR/$b" ] || missing+=("$b")
done
if [ "${#missing[@]}" = 0 ]; then
	exit 0
fi

log "building ${missing[*]} $K8S_VERSION into $BIN_DIR (a few minutes the first time)"
mkdir -p "$BIN_DIR"
# Build into a temp dir next to the cache and move into place, so an
# interrupted build never leaves a half-written binary that looks cached.
tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

pkgs=()
for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done

# Version stamps as upstream's build sets them: without them /version reports
# v0.0.0-master, which confuses clients that parse the server version.
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=34"
ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"

start=$(date +%s)
(
	cd "$ROOT/hack/k8s"
	# GOWORK=off: never let a go.work pull this module into the main one.
	# GOFLAGS reset: the caller's flags (e.g. -mod=vendor) do not apply here.
	GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
		go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"
)
for b in "${missing[@]}"; do mv -f "$tmp/$b" "$BIN_DIR/$b"; done
log "built in $(($(date +%s) - start))s: $(cd "$BIN_DIR" && echo "${missing[*]}")"
