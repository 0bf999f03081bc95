#!/usr/bin/env bash
# Builds promtool from the Go module in deploy/tools/promtool/ (github.com/prometheus/prometheus
# through the Go module proxy) into a cache outside the repository, keyed by the pinned version, and
# prints the directory holding it (scripts/lib/go-tool-cache.sh). A warm cache returns at once; the
# first build takes several minutes on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/deploy/tools/promtool"
# shellcheck source=lib/go-tool-cache.sh
source "$here/scripts/lib/go-tool-cache.sh"

prom_version="$(awk '$1 == "github.com/prometheus/prometheus" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
[[ -n "$prom_version" ]] || { echo "build-promtool: cannot read the version from $mod/go.mod" >&2; exit 1; }

build_promtool() {
  # The stamp `promtool --version` reports (Prometheus' Makefile sets it the same way through promu).
  go build -trimpath -ldflags="-s -w -X github.com/prometheus/common/version.Version=$prom_version" -o "$1/promtool" github.com/prometheus/prometheus/cmd/promtool
}

go_tool_cached promtool "$mod" "$prom_version" build_promtool
