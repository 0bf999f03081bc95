/**
 * Validation of EcsInstanceAttributes objects with the zod schemas, for the controller's own checks.
 * The API server has already enforced what the CRD can express; validateSpec/validateResource repeat
 * those rules (objects may predate a CRD upgrade). OS-dependent rules need the instance's OS type and
 * live in osSpecProblems; password and Secret-sourced user data checks in rules.ts.
 */
import type { V1ListMeta, V1ObjectMeta } from "@kubernetes/client-node";
import { z } from "zod";
import { type API_VERSION, type KIND, type LIST_KIND, PAUSED_ANNOTATION } from "./constants.js";
import { hostNameProblems, hostnameTypeProblems, type OsType } from "./rules.js";
import { type EcsInstanceAttributesSpec, type EcsInstanceAttributesSpecInput, specSchema } from "./spec.js";
import type { EcsInstanceAttributesStatus } from "./status.js";

/** An EcsInstanceAttributes object as the controller works with it (spec parsed, defaults applied). */
export interface EcsInstanceAttributes {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta;
  spec: EcsInstanceAttributesSpec;
  status?: EcsInstanceAttributesStatus;
}

/** The same object as stored (spec as written, e.g. without the managementPolicy default). */
export interface EcsInstanceAttributesInput {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta;
  spec: EcsInstanceAttributesSpecInput;
  status?: EcsInstanceAttributesStatus;
}

/** The list object returned by LIST calls (for clients of the API; unused inside src/). @public */
export interface EcsInstanceAttributesList {
  apiVersion: typeof API_VERSION;
  kind: typeof LIST_KIND;
  metadata: V1ListMeta;
  items: EcsInstanceAttributesInput[];
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Default cap for one-line validation messages (fits a condition message and a log line). */
export const DEFAULT_VALIDATION_MESSAGE_LENGTH = 1024;

/**
 * Joins zod issues into one line: `spec.hostName: hostName must not contain '..' or '--'; spec.x: …`,
 * truncated to `maxLength` characters (ending in "…" when cut). Issue messages describe rules, never
 * input values.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = "", maxLength = DEFAULT_VALIDATION_MESSAGE_LENGTH): string {
  const parts = issues.map((i) => {
    const path = [prefix, ...i.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))]
      .filter((p) => p !== "")
      .join(".")
      .replaceAll(".[", "[");
    return path ? `${path}: ${i.message}` : i.message;
  });
  const line = parts.join("; ").replaceAll(/\s+/g, " ");
  return line.length <= maxLength ? line : `${line.slice(0, Math.max(0, maxLength - 1))}…`;
}

/** Validates a spec; on failure the message is one line of `spec.<path>: <message>` pairs. */
export function validateSpec(spec: unknown, maxLength = DEFAULT_VALIDATION_MESSAGE_LENGTH): ValidationResult<EcsInstanceAttributesSpec> {
  const r = specSchema.safeParse(spec);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: formatIssues(r.error.issues, "spec", maxLength) };
}

const objectShell = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }),
  spec: z.unknown(),
});

/**
 * Validates a whole object read from the API server: the shell (apiVersion, kind, metadata) and the
 * spec. Status is passed through untouched (the controller owns it and rewrites it anyway).
 */
export function validateResource(obj: unknown, maxLength = DEFAULT_VALIDATION_MESSAGE_LENGTH): ValidationResult<EcsInstanceAttributes> {
  const shell = objectShell.safeParse(obj);
  if (!shell.success) return { ok: false, message: formatIssues(shell.error.issues, "", maxLength) };
  const spec = validateSpec(shell.data.spec, maxLength);
  if (!spec.ok) return spec;
  return { ok: true, value: { ...(obj as EcsInstanceAttributes), spec: spec.value } };
}

/** True when the resource carries `ecs.alicloud.dev/paused: "true"` (exactly "true"). */
export function isPaused(metadata: Pick<V1ObjectMeta, "annotations"> | undefined): boolean {
  return metadata?.annotations?.[PAUSED_ANNOTATION] === "true";
}

/**
 * Spec problems that depend on the instance's OS type (known only after reading ECS): the Windows
 * hostname rules and Windows' Custom-only hostnameType. Empty when fine or when the OS is unknown.
 * Messages name the field and never contain secret values; use them for Ready=False/InvalidSpec.
 */
export function osSpecProblems(spec: Pick<EcsInstanceAttributesSpec, "hostName" | "privateDnsNameOptions">, osType: OsType | undefined): string[] {
  const out: string[] = [];
  if (spec.hostName !== undefined) out.push(...hostNameProblems(spec.hostName, osType).map((m) => `spec.${m}`));
  const hostnameType = spec.privateDnsNameOptions?.hostnameType;
  if (hostnameType !== undefined) out.push(...hostnameTypeProblems(hostnameType, osType).map((m) => `spec.${m}`));
  return out;
}
