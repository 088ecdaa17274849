#!/usr/bin/env bash
# Installs the Debian packages the tests and `make run` need, only when a
# binary is missing; `apt-get update` runs at most once.
set -euo pipefail

updated=0
need() {
	local cmd="$1" pkg="$2"
	command -v "$cmd" >/dev/null 2>&1 && return 0
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	if [ "$updated" = 0 ]; then
		$sudo apt-get update -qq
		updated=1
	fi
	echo "[deps] installing $pkg" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$pkg" >/dev/null
}

need redis-server redis-server
need redis-cli redis-tools
need prometheus prometheus
need redis-sentinel redis-sentinel
