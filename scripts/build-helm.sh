#!/usr/bin/env bash
# Builds the helm CLI from the Go module in deploy/tools/helm/ (helm.sh/helm/v3 through the Go module
# proxy) into a cache outside the repository, keyed by the pinned version, and prints the directory
# holding it. A warm cache returns at once; the first build takes a few minutes on 2 cores.
# Progress goes to stderr; the only line on stdout is the binary directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/deploy/tools/helm"

helm_version="$(awk '$1 == "helm.sh/helm/v3" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
client_go_version="$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
[[ -n "$helm_version" && -n "$client_go_version" ]] || { echo "build-helm: cannot read versions from $mod/go.mod" >&2; exit 1; }
# go.sum pins every transitive module, so it is part of the key too.
sum_hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
out="$cache_root/helm/${helm_version}-${sum_hash}"

if [[ -x "$out/helm" ]]; then
  echo "$out"
  exit 0
fi

# Two test files may ask at once on a cold cache: one builds, the other waits for it.
mkdir -p "$cache_root/helm"
exec 9>"$cache_root/helm/.build.lock"
flock 9
if [[ -x "$out/helm" ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-helm: Go is required (see README prerequisites)" >&2; exit 1; }
echo "build-helm: building helm $helm_version into $out (first build takes a few minutes; later runs reuse it)" >&2

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
# The same stamps helm's own Makefile sets: the version `helm version` reports, and the Kubernetes
# version `helm template`/`helm lint` assume (client-go v0.X.Y -> Kubernetes 1.X).
k8s_minor="$(cut -d. -f2 <<<"$client_go_version")"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
echo "build-helm: [0s] go build helm ..." >&2
go build -trimpath -ldflags="$ldflags" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
echo "build-helm: [$(( $(date +%s) - start ))s] done" >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
