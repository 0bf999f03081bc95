/** Helpers for the runtime integration tests: namespaces, captured logs, etcd compaction (polling and the TCP proxy: harness/). */
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export async function createNamespace(kc: KubeConfig, prefix: string): Promise<{ ns: string; cleanup: () => Promise<void> }> {
  const core = kc.makeApiClient(CoreV1Api);
  const ns = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  return { ns, cleanup: async () => void (await core.deleteNamespace({ name: ns }).catch(() => undefined)) };
}

/** Log records captured in memory (JSON objects), plus a pino logger writing to them. */
export function captureLogger(level = "debug"): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

/** Compacts etcd at its current revision (through etcd's JSON gateway); returns that revision. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: Buffer.from("/").toString("base64") }) });
  const body = (await range.json()) as { header?: { revision?: string } };
  const revision = Number(body.header?.revision);
  if (!revision) throw new Error(`etcd returned no revision: ${JSON.stringify(body)}`);
  const compact = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: "POST", body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!compact.ok) throw new Error(`etcd compaction failed: HTTP ${compact.status} ${await compact.text()}`);
  return revision;
}
