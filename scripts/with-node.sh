#!/usr/bin/env bash
# Runs a command (an npm script's) under Node >= 22, before any JavaScript loads: npm may have been
# started by an older node (many machines ship Node 20), and vitest and tsx then crash inside undici
# with a stack trace. scripts/ensure-node.sh prints nothing when the current node will do, otherwise
# the bin directory of a Node 24 it caches outside the repository (as .ci/run uses it).
#   bash scripts/with-node.sh vitest run
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! dir="$(bash "$here/ensure-node.sh")"; then
  echo "Node >= 22 is required (this is $(node --version 2>/dev/null || echo 'no node')); install Node 24 and run the command again." >&2
  exit 1
fi
if [[ -n "$dir" ]]; then
  echo "node $(node --version) is older than 22: running under $("$dir/node" --version) from $dir" >&2
  export PATH="$dir:$PATH"
fi
exec "$@"
