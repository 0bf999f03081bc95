#!/usr/bin/env bash
# Builds promtool from the Go module in deploy/tools/promtool/ (github.com/prometheus/prometheus
# through the Go module proxy) into a cache outside the repository, keyed by the pinned version, and
# prints the directory holding it. Same shape as scripts/build-helm.sh: a warm cache returns at once;
# the first build takes several minutes on 2 cores. Progress goes to stderr; the only line on stdout
# is the binary directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/deploy/tools/promtool"

prom_version="$(awk '$1 == "github.com/prometheus/prometheus" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
[[ -n "$prom_version" ]] || { echo "build-promtool: cannot read the version from $mod/go.mod" >&2; exit 1; }
# go.sum pins every transitive module, so it is part of the key too.
sum_hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
out="$cache_root/promtool/${prom_version}-${sum_hash}"

if [[ -x "$out/promtool" ]]; then
  echo "$out"
  exit 0
fi

# Two test files may ask at once on a cold cache: one builds, the other waits for it.
mkdir -p "$cache_root/promtool"
exec 9>"$cache_root/promtool/.build.lock"
flock 9
if [[ -x "$out/promtool" ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-promtool: Go is required (see README prerequisites)" >&2; exit 1; }
echo "build-promtool: building promtool $prom_version into $out (first build takes several minutes; later runs reuse it)" >&2

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
# The stamp `promtool --version` reports (Prometheus' Makefile sets it the same way through promu).
ldflags="-s -w -X github.com/prometheus/common/version.Version=$prom_version"
echo "build-promtool: [0s] go build promtool ..." >&2
go build -trimpath -ldflags="$ldflags" -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool
echo "build-promtool: [$(( $(date +%s) - start ))s] done" >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
