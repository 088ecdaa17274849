#!/usr/bin/env bash
# Installs the Debian packages the tests and `make run` need, only when a
# binary is missing; `apt-get update` runs at most once.
set -euo pipefail

updated=0
need() {
	local cmd="$1" pkg="$2"
	command -v "$cmd" >/dev/null 2>&1 && return 0
	case "$cmd" in /*) [ -e "$cmd" ] && return 0 ;; esac
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

# The real node (test/cluster NodeReal): containerd, runc and the CNI
# plugins run the pods; iptables and conntrack are kube-proxy's; busybox
# (static) is the shell of the Redis test image, ca-certificates go into
# the product image.
need containerd containerd
need runc runc
need /usr/lib/cni/bridge containernetworking-plugins
need iptables iptables
need conntrack conntrack
need /bin/busybox busybox-static
need /etc/ssl/certs/ca-certificates.crt ca-certificates
