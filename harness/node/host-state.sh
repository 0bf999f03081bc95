#!/usr/bin/env bash
# Host changes of the one-node cluster (harness/node/cluster.ts): record them before the first
# component starts, undo them at teardown, and compare before/after.
#
#   host-state.sh snapshot <state-dir>      record into <state-dir>/before/
#   host-state.sh restore  <state-dir>      stop what <state-dir>/pids lists and undo host changes
#   host-state.sh diff     <state-dir>      record <state-dir>/after/, print differences, exit 1 if any
#
# The same restore runs from the harness's teardown and from a detached reaper when the test
# runner dies, so it must be idempotent and must not stop at the first failure.
# <state-dir>/env holds NODE_IP, POD_CIDR, WORK_DIR, CONTAINERD_SOCK, KUBE_PROXY, GUARD_CHAIN.
# What is covered (the list in ../shared reference "Host changes that must be undone"):
#   sysctls kubelet/CNI/kube-proxy set, every iptables table, mounts, network namespaces, links,
#   addresses, routes, directories kubelet/CNI/containerd create, kubelet's kubepods cgroups.
set -uo pipefail

cmd="${1:?usage: host-state.sh snapshot|restore|diff <state-dir>}"
state="${2:?state dir}"

# Sysctls the components set (kubelet: vm.*, kernel.*; CNI bridge: ip_forward; kube-proxy:
# conntrack and bridge netfilter). Missing ones are skipped.
SYSCTLS=(
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv6.conf.all.forwarding
  net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal
)
# Directories the components create on the host (not under the work dir).
DIRS=(
  /var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers /run/containerd /var/lib/containerd
  /run/netns /var/run/netns /etc/cni /opt/cni /run/flannel /var/lib/containers /run/containers
  /etc/kubernetes /var/lib/kube-proxy /run/kubernetes
)

# Rules and user chains per table, and built-in chain policies other than ACCEPT: what changes
# packet handling. Counters and empty tables (which stay after a flush) are not compared.
rules() {
  "$1-save" 2>/dev/null | awk '
    /^\*/ { t = substr($0, 2); next }
    /^:/ { if ($2 == "-") print t, $1; else if ($2 != "ACCEPT") print t, $1, $2; next }
    /^-A/ { print t, $0 }'
}

record() {
  local out="$1"
  mkdir -p "$out"
  : >"$out/sysctls"
  local s
  for s in "${SYSCTLS[@]}"; do
    local f="/proc/sys/${s//.//}"
    [[ -r "$f" ]] && echo "$s=$(tr '\t' ' ' <"$f")" >>"$out/sysctls"
  done
  : >"$out/dirs"
  local d
  for d in "${DIRS[@]}"; do [[ -e "$d" ]] && echo "$d" >>"$out/dirs"; done
  rules iptables >"$out/iptables"
  rules ip6tables >"$out/ip6tables"
  iptables-save 2>/dev/null | grep '^\*' | tr -d '*' >"$out/iptables-tables"
  ip6tables-save 2>/dev/null | grep '^\*' | tr -d '*' >"$out/ip6tables-tables"
  iptables-save >"$out/iptables-restore" 2>/dev/null
  ip6tables-save >"$out/ip6tables-restore" 2>/dev/null
  awk '{print $5}' /proc/self/mountinfo | sort >"$out/mounts"
  ip -o addr show | awk '{print $2, $3, $4}' | sort >"$out/addresses"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort >"$out/links"
  ip route show table all 2>/dev/null | grep -v -E '^(local|broadcast) .* table local' | sort >"$out/routes"
  ls /run/netns 2>/dev/null | sort >"$out/netns"
  find /sys/fs/cgroup -maxdepth 3 -type d -name 'kubepods*' 2>/dev/null | sort >"$out/cgroups"
}

load_env() {
  # shellcheck disable=SC1091
  [[ -f "$state/env" ]] && source "$state/env"
  : "${NODE_IP:=}" "${POD_CIDR:=}" "${WORK_DIR:=}" "${CONTAINERD_SOCK:=}" "${KUBE_PROXY:=}" "${GUARD_CHAIN:=}"
}

kill_pids() {
  # pids: one "name pid" a line, in start order; stop in reverse order.
  [[ -f "$state/pids" ]] || return 0
  local name pid
  tac "$state/pids" | while read -r name pid; do
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    echo "host-state: stopped $name ($pid)" >&2
  done
}

kill_shims() {
  # containerd-shim-runc-v2 processes outlive containerd; ours carry our socket path.
  [[ -n "$CONTAINERD_SOCK" ]] || return 0
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null); do
    pkill -KILL -P "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  done
  # Container processes left after their shim died are in our kubepods cgroups.
  local f
  for f in $(find /sys/fs/cgroup/pids /sys/fs/cgroup/memory -path '*kubepods*' -name cgroup.procs 2>/dev/null); do
    while read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$f"
  done
}

unmount_new() {
  # Unmount, deepest first, what was mounted since the snapshot (containerd/kubelet/CNI mounts).
  local m
  comm -13 "$state/before/mounts" <(awk '{print $5}' /proc/self/mountinfo | sort) | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

restore_iptables() {
  local v t
  for v in iptables ip6tables; do
    # Tables that appeared after the snapshot are emptied; the others are put back as they were.
    for t in $("$v-save" 2>/dev/null | grep '^\*' | tr -d '*'); do
      grep -qx "$t" "$state/before/$v-tables" || { "$v" -w -t "$t" -F 2>/dev/null; "$v" -w -t "$t" -X 2>/dev/null; }
    done
    [[ -s "$state/before/$v-restore" ]] || continue
    "$v-restore" -w <"$state/before/$v-restore" 2>/dev/null || echo "host-state: $v-restore failed" >&2
  done
}

restore_sysctls() {
  local line
  while IFS= read -r line; do
    local k="${line%%=*}" v="${line#*=}"
    local f="/proc/sys/${k//.//}"
    [[ -w "$f" ]] || continue
    [[ "$(tr '\t' ' ' <"$f")" == "$v" ]] || echo "$v" >"$f" 2>/dev/null || echo "host-state: cannot restore $k" >&2
  done <"$state/before/sysctls"
}

restore_network() {
  local n l
  comm -13 "$state/before/netns" <(ls /run/netns 2>/dev/null | sort) | while read -r n; do ip netns delete "$n" 2>/dev/null; done
  comm -13 "$state/before/links" <(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort) | while read -r l; do
    ip link delete "$l" 2>/dev/null
  done
  [[ -n "$NODE_IP" ]] && ! grep -q " $NODE_IP/32\$" "$state/before/addresses" && ip addr del "$NODE_IP/32" dev lo 2>/dev/null
  return 0
}

restore_dirs() {
  local d
  for d in "${DIRS[@]}"; do
    [[ -e "$d" ]] && ! grep -qx "$d" "$state/before/dirs" && rm -rf "$d"
  done
  return 0
}

restore_cgroups() {
  # rmdir works only on empty cgroups; deepest first. Only ones that did not exist before.
  local c
  for c in $(find /sys/fs/cgroup -type d -path '*kubepods*' 2>/dev/null | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-); do
    rmdir "$c" 2>/dev/null
  done
  return 0
}

case "$cmd" in
  snapshot)
    record "$state/before"
    ;;
  restore)
    [[ -d "$state/before" ]] || { echo "host-state: no snapshot in $state" >&2; exit 1; }
    load_env
    kill_pids
    kill_shims
    [[ -n "$KUBE_PROXY" && -x "$KUBE_PROXY" ]] && "$KUBE_PROXY" --cleanup >/dev/null 2>&1
    unmount_new
    restore_network
    restore_iptables
    restore_sysctls
    restore_cgroups
    restore_dirs
    [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]] && { unmount_new; rm -rf "$WORK_DIR" 2>/dev/null; }
    true
    ;;
  diff)
    record "$state/after"
    rc=0
    for f in sysctls dirs iptables ip6tables mounts addresses links routes netns cgroups; do
      if ! out="$(diff "$state/before/$f" "$state/after/$f")"; then
        echo "host-state: $f changed:"; echo "$out"; rc=1
      fi
    done
    exit "$rc"
    ;;
  *)
    echo "host-state: unknown command $cmd" >&2; exit 2
    ;;
esac
