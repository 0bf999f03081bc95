#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module in test/controlplane/ into a cache
# outside the repository, keyed by the pinned versions, and prints the directory holding them.
# A warm cache returns at once; the first build takes several minutes on 2 cores.
# Progress goes to stderr; the only line on stdout is the binary directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/test/controlplane"

k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
# go.sum pins every transitive module, so it is part of the key too.
sum_hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
out="$cache_root/controlplane/${k8s_version}-etcd-${etcd_version}-${sum_hash}"

if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi

# Two test projects may ask at once on a cold cache: one builds, the other waits for it.
mkdir -p "$cache_root/controlplane"
exec 9>"$cache_root/controlplane/.build.lock"
flock 9
if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-controlplane: Go is required (see README prerequisites)" >&2; exit 1; }
echo "build-controlplane: building kube-apiserver $k8s_version, kubectl $k8s_version, etcd $etcd_version" >&2
echo "build-controlplane: into $out (first build takes several minutes; later runs reuse it)" >&2

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$mod"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
for pkg in go.etcd.io/etcd/server/v3:etcd k8s.io/kubernetes/cmd/kubectl:kubectl k8s.io/kubernetes/cmd/kube-apiserver:kube-apiserver; do
  name="${pkg##*:}"
  echo "build-controlplane: [$(( $(date +%s) - start ))s] go build $name ..." >&2
  # Stamp the real version so /version and kubectl's skew check report it.
  go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$k8s_version")" \
    -o "$tmp/$name" "${pkg%%:*}"
done
echo "build-controlplane: [$(( $(date +%s) - start ))s] done" >&2
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
