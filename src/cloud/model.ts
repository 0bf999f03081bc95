// Typed, normalised views of what ECS returns and of what ModifyInstanceAttribute accepts.
// Pure: no I/O. ecs.ts maps SDK responses through here.
//
// Which read shows which attribute (DescribeInstances, an extra single-instance read, or nothing for
// write-only values) is the field table in src/api/fields.ts; the DescribeInstances decoding, the
// post-write view and the request's field list below are derived from it. A changed HostName or
// Password takes effect in the OS only after a console/API restart.

import { FIELD_ROWS, type FIELDS, lowerFirst, putAt, type ExtraRead, type FieldRow, valueAt } from "../api/fields.js";

/** Instance lifecycle states (`Status`). Other strings may appear and are passed through. */
export type InstanceStatus = "Pending" | "Starting" | "Running" | "Stopping" | "Stopped" | (string & {});

export type OsType = "linux" | "windows";

// ---- the managed attributes' types, derived from the field table ----------------------------------
// A row named `a` is a top-level member, one named `g.m` is member `m` of the group object `g`.

type Row = (typeof FIELDS)[number];
type Name = Row["name"];
type RowNamed<N> = Extract<Row, { name: N }>;
type TopLevel<N> = N extends `${string}.${string}` ? never : N;
type Group<N> = N extends `${infer G}.${string}` ? G : never;
type Member<N, G extends string> = N extends `${G}.${infer M}` ? M : never;

/** What a value of each FieldType is once read: `""`/false when ECS leaves it out, counts may be unknown. */
interface ReadTypes {
  text: string;
  flag: boolean;
  count: number | undefined;
  /** Sorted and deduplicated (compare as a set). */
  ids: string[];
  base64: string;
  secret: never;
}
type ReadValue<N> = ReadTypes[RowNamed<N>["type"]];

/** Rows read by every DescribeInstances (always present) and by an extra read (present when asked). */
type Described = Extract<Row, { read: { action: "DescribeInstances" } }>["name"];
type ExtraReadOnly = Extract<Row, { read: { extra: ExtraRead } }>["name"];

type ObservedAttributes = { [N in TopLevel<Described>]: ReadValue<N> } & { [N in TopLevel<ExtraReadOnly>]?: ReadValue<N> | undefined } & {
  [G in Group<Described>]: { [M in Member<Described, G>]: ReadValue<`${G}.${M}`> };
};

/** One instance as the controller sees it: its identity and state, plus every readable row of the field table. */
export type ObservedInstance = ObservedAttributes & {
  instanceId: string;
  regionId: string;
  zoneId: string;
  status: InstanceStatus;
  osType: OsType;
  instanceType: string;
  /** `PostPaid` | `PrePaid` (DeletionProtection needs PostPaid). */
  instanceChargeType: string;
  instanceNetworkType: string;
  vpcId: string;
  /** RFC 3339-ish as ECS returns it (e.g. `2017-12-10T04:04Z`); undefined when never started. */
  startTime: string | undefined;
  /** `OperationLocks.LockReason[].LockReason`: `security`, `financial`, `recycling`, … */
  operationLocks: string[];
  /** The primary ENI (from DescribeInstances' NetworkInterfaces), when reported. */
  primaryNetworkInterfaceId: string | undefined;
  /** `Tags.Tag[]` (key, value; value `""` when ECS leaves it out): checked by EcsProviderConfig instanceTags. */
  tags?: { key: string; value: string }[] | undefined;
};

/** Which extra single-instance reads to make (each costs one call per instance; see src/api/fields.ts). */
export type ReadExtras = { [K in ExtraRead]?: boolean | undefined };

/** What a value of each FieldType is when sent. */
interface SendTypes {
  text: string;
  flag: boolean;
  count: number;
  /** Lists REPLACE the instance's whole set. */
  ids: readonly string[];
  base64: string;
  secret: string;
}
type SendValue<N> = SendTypes[RowNamed<N>["type"]] | undefined;

/**
 * ModifyInstanceAttribute parameters, one optional member per row of the field table (rules and
 * states per field: docs/api.md). An omitted field is left unchanged by ECS. Values are absolute, so
 * a repeated call is idempotent. There is no DryRun and no ClientToken on this action.
 */
export type ModifyRequest = { instanceId: string } & { [N in TopLevel<Name>]?: SendValue<N> } & {
  [G in Group<Name>]?: { [M in Member<Name, G>]?: SendValue<`${G}.${M}`> } | undefined;
};

/** Field names of a ModifyRequest that carry a value (for logs/Events; never the values). */
export function modifyFields(req: ModifyRequest): string[] {
  return FIELD_ROWS.filter((row) => valueAt(req, row.name) !== undefined)
    .map((row) => row.name)
    .sort();
}

/** The secret values in a request (for scrubbing error text). */
export function modifySecrets(req: ModifyRequest): string[] {
  return FIELD_ROWS.filter((row) => row.secret)
    .map((row) => valueAt(req, row.name))
    .filter((v): v is string => typeof v === "string" && v !== "");
}

/**
 * The instance as it is once `request` succeeded: what the next read would show, without that read.
 * Write-only values are not part of the view; the "type default" sentinel is left to the next read,
 * since only ECS knows which number it stands for.
 */
export function observedAfterModify(observed: ObservedInstance, request: ModifyRequest): ObservedInstance {
  const view: Record<string, unknown> = { ...observed };
  for (const row of FIELD_ROWS) {
    const sent = valueAt(request, row.name);
    if (sent === undefined || row.read.action === "none" || sent === row.typeDefault) continue;
    putAt(view, row.name, row.type === "ids" ? [...(sent as readonly string[])].sort() : sent);
  }
  return view as ObservedInstance;
}

// ---- normalisation of SDK response models ------------------------------------------------------

/**
 * The parts of the SDK's DescribeInstances instance model read by name (lower-camel; OSType keeps
 * case). The managed attributes are read by the field table's response keys (`read.key`) instead.
 */
export interface RawInstance {
  instanceId?: string | undefined;
  regionId?: string | undefined;
  zoneId?: string | undefined;
  status?: string | undefined;
  OSType?: string | undefined;
  instanceType?: string | undefined;
  instanceChargeType?: string | undefined;
  instanceNetworkType?: string | undefined;
  vpcAttributes?: { vpcId?: string | undefined } | undefined;
  startTime?: string | undefined;
  operationLocks?: { lockReason?: { lockReason?: string | undefined }[] | undefined } | undefined;
  networkInterfaces?: { networkInterface?: { networkInterfaceId?: string | undefined; type?: string | undefined }[] | undefined } | undefined;
  tags?: { tag?: { tagKey?: string | undefined; tagValue?: string | undefined }[] | undefined } | undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === "true";
}

/**
 * Freezes a plain value and everything in it. Observations are shared (one batched read answers
 * several callers; a round observation answers several reconciles): freezing lets them be shared
 * without a deep copy per read, and a caller that tried to change one would throw (ESM is strict).
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const inner of Object.values(v)) deepFreeze(inner);
  }
  return v;
}

/** Normalises one DescribeInstances entry. `regionId` fills in when the entry lacks it. */
export function normaliseInstance(raw: RawInstance, regionId: string): ObservedInstance {
  const locks = (raw.operationLocks?.lockReason ?? []).map((l) => l.lockReason ?? "").filter((r) => r !== "");
  const enis = raw.networkInterfaces?.networkInterface ?? [];
  const primary = enis.find((n) => n.type === "Primary") ?? (enis.length === 1 ? enis[0] : undefined);
  const out: Record<string, unknown> = {
    instanceId: raw.instanceId ?? "",
    regionId: raw.regionId || regionId,
    zoneId: raw.zoneId ?? "",
    status: raw.status ?? "",
    osType: (raw.OSType ?? "").toLowerCase() === "windows" ? "windows" : "linux",
    instanceType: raw.instanceType ?? "",
    instanceChargeType: raw.instanceChargeType ?? "",
    instanceNetworkType: raw.instanceNetworkType ?? "",
    vpcId: raw.vpcAttributes?.vpcId ?? "",
    startTime: raw.startTime || undefined,
    operationLocks: locks,
    primaryNetworkInterfaceId: primary?.networkInterfaceId || undefined,
    tags: (raw.tags?.tag ?? []).filter((t) => !!t.tagKey).map((t) => ({ key: t.tagKey ?? "", value: t.tagValue ?? "" })),
  };
  for (const row of FIELD_ROWS) {
    if (row.read.action !== "DescribeInstances") continue;
    // The SDK's response model uses the response keys in lower camel case.
    const path = row.read.key.split(".").map(lowerFirst).join(".");
    putAt(out, row.name, decode(row, valueAt(raw, path)));
  }
  return out as ObservedInstance;
}

/** A DescribeInstances value in the shape ObservedInstance keeps for the row's type. */
function decode(row: FieldRow, v: unknown): unknown {
  switch (row.type) {
    case "flag":
      return bool(v);
    case "count":
      return num(v);
    case "ids":
      return [...new Set(Array.isArray(v) ? (v as string[]) : [])].sort();
    case "text":
    case "base64":
    case "secret":
      return typeof v === "string" ? v : "";
  }
}

/** A flag from a DescribeInstanceAttribute response by its response key: top level, else under NetworkOptions. */
export function attributeFlagFrom(body: object | undefined, key: string): boolean {
  const k = lowerFirst(key);
  return bool(valueAt(body ?? {}, k) ?? valueAt(body ?? {}, `networkOptions.${k}`));
}

/** The primary ENI's QueueNumber from DescribeNetworkInterfaces items. */
export function primaryQueueNumberFrom(items: readonly { type?: string | undefined; queueNumber?: number | undefined }[]): number | undefined {
  const primary = items.find((n) => n.type === "Primary") ?? (items.length === 1 ? items[0] : undefined);
  return num(primary?.queueNumber);
}
