/**
 * pino logger factory for the controller.
 *
 *   const log = createLogger({ level: "info", format: "json" });   // "pretty" for humans
 *   log.info({ obj: resource }, "applied");   // `obj` logs identity only (kind, ns, name, uid, rv, generation)
 *   const rlog = reconcileLogger(log, { controller: "ecsattrs", namespace, name });  // adds reconcileID
 *
 * Never log whole resources or SDK requests: pino redaction matches one path level only, so a
 * secret nested in a spec would slip through. Pass objects under `obj` (or `objs` for arrays),
 * errors under `err`.
 */
import { randomUUID } from "node:crypto";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export type LogFormat = "json" | "pretty";

export interface LoggerConfig {
  level?: string;
  format?: LogFormat;
  /** Base fields on every line (default none; pino adds pid/hostname only for json). */
  base?: Record<string, unknown>;
  /** Where lines go (default stdout). Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

/** The identity of a Kubernetes object: what logs, Events and errors may carry. */
export interface ObjectIdentity {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
}

interface MetaLike {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { namespace?: unknown; name?: unknown; uid?: unknown; resourceVersion?: unknown; generation?: unknown };
}

/** Reduces a Kubernetes object to its identity; anything else becomes `{}` (never the raw value). */
export function objectIdentity(obj: unknown): ObjectIdentity {
  if (obj === null || typeof obj !== "object") return {};
  const o = obj as MetaLike;
  const m = o.metadata ?? {};
  const out: ObjectIdentity = {};
  if (typeof o.apiVersion === "string") out.apiVersion = o.apiVersion;
  if (typeof o.kind === "string") out.kind = o.kind;
  if (typeof m.namespace === "string") out.namespace = m.namespace;
  if (typeof m.name === "string") out.name = m.name;
  if (typeof m.uid === "string") out.uid = m.uid;
  if (typeof m.resourceVersion === "string") out.resourceVersion = m.resourceVersion;
  if (typeof m.generation === "number") out.generation = m.generation;
  return out;
}

export const serializers = {
  obj: objectIdentity,
  objs: (list: unknown) => (Array.isArray(list) ? list.map(objectIdentity) : []),
  err: pino.stdSerializers.err,
};

export function createLogger(cfg: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: cfg.level ?? "info",
    serializers,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(cfg.base ? { base: cfg.base } : {}),
  };
  if ((cfg.format ?? "json") === "pretty") {
    const stream = pretty({ sync: true, colorize: false, destination: cfg.destination ?? 1 });
    return pino({ ...options, base: cfg.base ?? null }, stream);
  }
  // pino() alone writes stdout asynchronously, and its exit hook flushes the queue with a
  // synchronous write that can land before a chunk still in flight: the last lines of a shutdown
  // ("released the Lease", "shutdown complete") came out of order in CI. Synchronous writes keep
  // every line in the order it was logged, as controller-runtime's zap logger does.
  return pino(options, cfg.destination ?? pino.destination({ dest: 1, sync: true }));
}

export interface ReconcileLogFields {
  controller: string;
  namespace?: string | undefined;
  name: string;
  reconcileID?: string;
}

/** A child logger for one reconcile; returns it with the reconcileID it carries. */
export function reconcileLogger(base: Logger, f: ReconcileLogFields): { log: Logger; reconcileID: string } {
  const reconcileID = f.reconcileID ?? randomUUID();
  const fields: Record<string, string> = { controller: f.controller, name: f.name, reconcileID };
  if (f.namespace) fields["namespace"] = f.namespace;
  return { log: base.child(fields), reconcileID };
}

/** Flushes buffered log output (the stdout destination above is synchronous; this covers async ones tests pass). */
export function flushLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
