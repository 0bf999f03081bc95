/**
 * Helpers for the EcsInstanceAttributesSet tests: set CRUD through the real API server, and the
 * largest number of ModifyInstanceAttribute calls in flight at one moment, from the emulator's call log.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../../src/api/constants.js";
import { SET_KIND, SET_PLURAL, type SetStatus } from "../../../src/api/set.js";
import type { CallRecord } from "../../../harness/emulator.js";
import { KubeApiError, type KubeRequest, kubeRequest } from "../../../src/runtime/kube-http.js";

export interface SetResource {
  metadata: { name: string; namespace: string; generation: number; uid: string };
  spec: Record<string, unknown>;
  status?: SetStatus;
}

/** Sets in one namespace, through kube-http (raw requests: merge patches and exact HTTP codes). */
export class Sets {
  constructor(
    private readonly kc: KubeConfig,
    private readonly ns: string,
  ) {}

  private path(name?: string): string {
    return `/apis/${GROUP}/${VERSION}/namespaces/${this.ns}/${SET_PLURAL}${name ? `/${name}` : ""}`;
  }

  private async call(req: KubeRequest, ok: number[]): Promise<SetResource> {
    const r = await kubeRequest(this.kc, req);
    if (!ok.includes(r.status)) throw KubeApiError.from(r, `${req.method} ${req.path}`);
    return r.body as SetResource;
  }

  create(name: string, spec: Record<string, unknown>): Promise<SetResource> {
    return this.call({ method: "POST", path: this.path(), body: { apiVersion: `${GROUP}/${VERSION}`, kind: SET_KIND, metadata: { name }, spec } }, [201]);
  }

  get(name: string): Promise<SetResource> {
    return this.call({ method: "GET", path: this.path(name) }, [200]);
  }

  /** Merge-patches the spec (null deletes a field). */
  patchSpec(name: string, spec: Record<string, unknown>): Promise<SetResource> {
    return this.call({ method: "PATCH", path: this.path(name), body: { spec }, contentType: "application/merge-patch+json" }, [200]);
  }
}

/** The status, once it is for the current generation. */
export const currentStatus = (s: SetResource): SetStatus | undefined => (s.status?.observedGeneration === s.metadata.generation ? s.status : undefined);

export const condition = (s: SetResource, type: string) => s.status?.conditions?.find((c) => c.type === type);

/** The most calls whose [start, end] intervals overlap at one moment (time is the end, durationMs the length). */
export function maxConcurrent(calls: readonly CallRecord[]): number {
  const edges: Array<[number, number]> = [];
  for (const c of calls) {
    const end = Date.parse(c.time);
    edges.push([end - c.durationMs, 1], [end, -1]);
  }
  // Ends before starts at the same instant: touching calls do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of edges) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}
