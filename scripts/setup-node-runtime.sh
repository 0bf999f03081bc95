#!/usr/bin/env bash
# Installs what the one-node cluster tests (test/e2e/node/) need from Debian packages:
# containerd + runc (the container runtime), buildah (builds the Dockerfile without a Docker
# engine), containernetworking-plugins (the Pod network), iptables + conntrack (kube-proxy),
# debootstrap (the local base-image stand-ins), busybox-static. Idempotent: installs only what is
# missing. Fails with one line naming what to do when a prerequisite of the machine is missing.
set -euo pipefail

[[ $EUID -eq 0 ]] || { echo "setup-node-runtime: must run as root (containerd, kubelet and iptables need it): rerun with sudo" >&2; exit 1; }
if [[ ! -d /sys/fs/cgroup/memory && ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
  echo "setup-node-runtime: no cgroups mounted at /sys/fs/cgroup (kubelet needs the memory/cpu/pids controllers): run on a host or VM with cgroups" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "setup-node-runtime: apt-get not found: install containerd runc buildah containernetworking-plugins iptables conntrack debootstrap with your package manager" >&2; exit 1; }

pkgs=(containerd runc buildah containernetworking-plugins iptables conntrack debootstrap busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  echo "setup-node-runtime: all present (${pkgs[*]})" >&2
  exit 0
fi
echo "setup-node-runtime: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "setup-node-runtime: installed ${missing[*]}" >&2
