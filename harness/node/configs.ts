/**
 * Configuration files of the one-node cluster's node side. Every path lives under the cluster's
 * work dir. The settings marked "sandbox" were failures on this machine kind until set (see the
 * shared reference real-node.md, "Settings this sandbox needs").
 */

export interface NodeLayout {
  workDir: string;
  nodeIp: string;
  podCidr: string;
  /** Unix socket path of containerd's CRI endpoint. */
  containerdSock: string;
  pauseImage: string;
}

export function containerdPaths(workDir: string): { root: string; state: string; sock: string; config: string; opt: string } {
  const base = `${workDir}/containerd`;
  return { root: `${base}/root`, state: `${base}/state`, sock: `${base}/containerd.sock`, config: `${base}/config.toml`, opt: `${base}/opt` };
}

export function containerdConfig(l: NodeLayout): string {
  const p = containerdPaths(l.workDir);
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return `version = 2
root = "${p.root}"
state = "${p.state}"
# Snapshotters that would probe host devices or are not needed.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "${p.sock}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${p.opt}"

[${cri}]
  sandbox_image = "${l.pauseImage}"
  # sandbox: no CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj below the parent's.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${l.workDir}/cni/net.d"
`;
}

/** One bridge, host-local IPAM; no masquerade, so nothing leaves the machine with the node's address. */
export function cniConfig(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "ecs-attrs",
      plugins: [
        {
          type: "bridge",
          bridge: "ecsattrs0",
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: l.podCidr }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: `${l.workDir}/cni/ipam` },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(l: NodeLayout, caFile: string, ports: { kubelet: number; healthz: number }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${l.nodeIp}
port: ${ports.kubelet}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${ports.healthz}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${caFile}}
authorization: {mode: Webhook}
# sandbox: cgroup v1/hybrid, no systemd, swap not checked.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${l.containerdSock}
staticPodPath: ${l.workDir}/static-pods
podLogsDir: ${l.workDir}/pod-logs
volumePluginDir: ${l.workDir}/volume-plugins
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 1%}
# The test images exist only locally: never garbage-collect them.
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
`;
}
