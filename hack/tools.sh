#!/usr/bin/env bash
# Installs the manifest tools the deploy tests use, built from source with
# `go install` at pinned versions into a per-version cache outside the
# repo (never prebuilt binaries):
#   - kustomize v5.7.1 (v5.8 needs a newer Go than this project's);
#   - helm v3.22.0.
# Prints nothing and returns at once when both are present.
set -euo pipefail

CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
TOOLS_DIR="${TOOLS_BIN_DIR:-$CACHE_HOME/redis-autoscaler/tools/bin}"
declare -A TOOLS=(
	[kustomize-v5.7.1]=sigs.k8s.io/kustomize/kustomize/v5@v5.7.1
	[helm-v3.22.0]=helm.sh/helm/v3/cmd/helm@v3.22.0
)
mkdir -p "$TOOLS_DIR"
for name in "${!TOOLS[@]}"; do
	[ -x "$TOOLS_DIR/$name" ] && continue
	tmp="$(mktemp -d)"
	echo "[tools] go install ${TOOLS[$name]}" >&2
	GOBIN="$tmp" go install "${TOOLS[$name]}"
	mv "$tmp/${name%-v*}" "$TOOLS_DIR/$name"
	rmdir "$tmp"
done
