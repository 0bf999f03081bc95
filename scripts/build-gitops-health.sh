#!/usr/bin/env bash
# Builds the GitOps health probe in test/tools/gitops-health/ (kstatus from sigs.k8s.io/cli-utils and
# github.com/yuin/gopher-lua, through the Go module proxy) into a cache outside the repository,
# keyed by its pinned cli-utils version, its own Go sources (unlike promtool and helm, the program is
# ours) and go.sum, and prints the directory holding it (scripts/lib/go-tool-cache.sh). A warm cache
# returns at once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/test/tools/gitops-health"
# shellcheck source=lib/go-tool-cache.sh
source "$here/scripts/lib/go-tool-cache.sh"

version="$(awk '$1 == "sigs.k8s.io/cli-utils" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
[[ -n "$version" ]] || { echo "build-gitops-health: cannot read the cli-utils version from $mod/go.mod" >&2; exit 1; }
src_hash="$(cat "$mod"/*.go | sha256sum | cut -c1-8)"

build_gitops_health() {
  go build -trimpath -ldflags="-s -w" -o "$1/gitops-health" .
}

go_tool_cached gitops-health "$mod" "$version-src$src_hash" build_gitops_health
