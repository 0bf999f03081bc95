#!/usr/bin/env bash
# Builds the node side of a one-node cluster: kubelet, kube-controller-manager, kube-scheduler and
# kube-proxy from the same pinned Go module as the control plane (test/controlplane/go.mod), plus
# the static `pause` binary from that module's build/pause/linux/pause.c (the sandbox image; no
# registry is reachable). Cached outside the repository, keyed by go.mod + go.sum, in a directory of
# its own so that scripts/build-controlplane.sh's key and lock are not involved.
# Progress goes to stderr; the only line on stdout is the binary directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/test/controlplane"
names=(kubelet kube-controller-manager kube-scheduler kube-proxy)

k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
sum_hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
out="$cache_root/kube-node/${k8s_version}-${sum_hash}"

complete() {
  local n
  for n in "${names[@]}" pause; do [[ -x "$out/$n" ]] || return 1; done
}
if complete; then echo "$out"; exit 0; fi

mkdir -p "$cache_root/kube-node"
exec 9>"$cache_root/kube-node/.build.lock"
flock 9
if complete; then echo "$out"; exit 0; fi

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then export PATH="$PATH:/usr/local/go/bin"; fi
command -v go >/dev/null || { echo "build-node-binaries: Go is required (see README prerequisites)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "build-node-binaries: gcc is required for the static pause binary: apt-get install -y gcc libc6-dev" >&2; exit 1; }
echo "build-node-binaries: building ${names[*]} $k8s_version and pause into $out (cold: ~8 min on 2 cores)" >&2

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
pkgs=()
for n in "${names[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$n"); done
# One `go build` for all four: shared packages compile once. The version stamp matches
# scripts/build-controlplane.sh so the kubelet reports the same version as the API server.
go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$k8s_version")" \
  -o "$tmp/" "${pkgs[@]}"
src="$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
gcc -Os -static -o "$tmp/pause" "$src" -DVERSION="$k8s_version"
strip "$tmp/pause"
echo "build-node-binaries: [$(( $(date +%s) - start ))s] done" >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
