#!/usr/bin/env bash
# Builds CoreDNS, with only the plugins a cluster DNS needs (module
# hack/coredns), into a per-version cache outside the repo, for the local test
# cluster's DNS.
#
# Usage: hack/build-coredns.sh [--print-path]
#   --print-path  after making sure the binary exists, print its path as the
#                 last (and only) line on stdout; progress goes to stderr, so
#                 COREDNS="$(hack/build-coredns.sh --print-path)" works.
# Environment: COREDNS_BIN_DIR overrides the cache directory.
#
# Idempotent: when the binary is present it returns in well under a second,
# so `make test` can depend on it without rebuilding.
set -euo pipefail

print_path=0
for arg in "$@"; do
	case "$arg" in
	--print-path) print_path=1 ;;
	-h | --help)
		sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
		exit 0
		;;
	*)
		printf 'build-coredns: unknown argument %s (try --help)\n' "$arg" >&2
		exit 2
		;;
	esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD_DIR="$ROOT/hack/coredns"
# The version is the one go.mod requires, so the cache path cannot drift from
# what is actually built.
COREDNS_VERSION="$(awk '{for (i = 1; i < NF; i++) if ($i == "github.com/coredns/coredns") { print $(i + 1); exit }}' "$MOD_DIR/go.mod")"
if [ -z "$COREDNS_VERSION" ]; then
	printf 'build-coredns: no github.com/coredns/coredns requirement in %s\n' "$MOD_DIR/go.mod" >&2
	exit 1
fi
CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
BIN_DIR="${COREDNS_BIN_DIR:-$CACHE_HOME/redis-autoscaler/coredns-$COREDNS_VERSION/bin}"
BIN="$BIN_DIR/coredns"

log() { printf '[build-coredns] %s\n' "$*" >&2; }

if [ ! -x "$BIN" ]; then
	log "building coredns $COREDNS_VERSION into $BIN_DIR (a minute or two the first time)"
	mkdir -p "$BIN_DIR"
	# Build into a temp dir next to the cache and move into place, so an
	# interrupted build never leaves a half-written binary that looks cached.
	tmp="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT

	start=$(date +%s)
	(
		cd "$MOD_DIR"
		# GOWORK=off: never let a go.work pull this module into the main one.
		# GOFLAGS reset: the caller's flags (e.g. -mod=vendor) do not apply here.
		# GitCommit is what upstream's Makefile stamps (git describe); the
		# release tag is the closest thing a module build has.
		GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 \
			go build -trimpath \
			-ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
			-o "$tmp/coredns" .
	)
	mv -f "$tmp/coredns" "$BIN"
	log "built in $(($(date +%s) - start))s: $BIN"
fi

if [ "$print_path" = 1 ]; then
	printf '%s\n' "$BIN"
fi
