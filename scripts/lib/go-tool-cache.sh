# Sourced by scripts/build-helm.sh and scripts/build-promtool.sh: builds one Go tool from a pinned
# module into a cache outside the repository and prints the directory holding it (the only line on
# stdout; progress on stderr). A warm cache returns at once; on a cold cache two callers may ask at
# once: one builds under a lock, the other waits and reuses the result.
#
#   go_tool_cached NAME MODULE_DIR VERSION BUILD_FUNCTION
#
# The key is NAME/VERSION-<hash of go.mod + go.sum> (go.sum pins every transitive module).
# BUILD_FUNCTION is called in MODULE_DIR with the output directory as $1 and must leave $1/NAME.

go_tool_cached() {
  local name="$1" mod="$2" version="$3" build="$4"
  local sum_hash cache_root out tmp start
  sum_hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)"
  cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
  out="$cache_root/$name/${version}-${sum_hash}"
  if [[ -x "$out/$name" ]]; then echo "$out"; return 0; fi

  mkdir -p "$cache_root/$name"
  exec 9>"$cache_root/$name/.build.lock"
  flock 9
  if [[ -x "$out/$name" ]]; then echo "$out"; return 0; fi

  command -v go >/dev/null || { echo "build-$name: Go is required (see README prerequisites)" >&2; return 1; }
  echo "build-$name: building $name $version into $out (the first build takes minutes; later runs reuse it)" >&2
  tmp="$out.tmp.$$"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp"
  start=$(date +%s)
  (cd "$mod" && CGO_ENABLED=0 GOFLAGS=-mod=mod "$build" "$tmp")
  echo "build-$name: [$(( $(date +%s) - start ))s] done" >&2
  rm -rf "$out"
  mv "$tmp" "$out"
  trap - EXIT
  echo "$out"
}
