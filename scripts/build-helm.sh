#!/usr/bin/env bash
# Builds the helm CLI from the Go module in deploy/tools/helm/ (helm.sh/helm/v3 through the Go module
# proxy) into a cache outside the repository, keyed by the pinned version, and prints the directory
# holding it (scripts/lib/go-tool-cache.sh). A warm cache returns at once; the first build takes a
# few minutes on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/deploy/tools/helm"
# shellcheck source=lib/go-tool-cache.sh
source "$here/scripts/lib/go-tool-cache.sh"

helm_version="$(awk '$1 == "helm.sh/helm/v3" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
client_go_version="$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v/ {print $2; exit}' "$mod/go.mod")"
[[ -n "$helm_version" && -n "$client_go_version" ]] || { echo "build-helm: cannot read versions from $mod/go.mod" >&2; exit 1; }

build_helm() {
  # The same stamps helm's own Makefile sets: the version `helm version` reports, and the Kubernetes
  # version `helm template`/`helm lint` assume (client-go v0.X.Y -> Kubernetes 1.X).
  local k8s_minor ldflags pkg
  k8s_minor="$(cut -d. -f2 <<<"$client_go_version")"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  go build -trimpath -ldflags="$ldflags" -o "$1/helm" helm.sh/helm/v3/cmd/helm
}

go_tool_cached helm "$mod" "$helm_version" build_helm
