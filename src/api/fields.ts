/**
 * The field table: one row per ECS attribute an EcsInstanceAttributes resource manages, and
 * everything the controller needs to know about it besides its schema (spec.ts).
 *
 * Why it lives in src/api: these are facts about the API's fields — where the desired value sits in
 * the spec, how it is compared, in which instance states ECS accepts it, whether it needs a restart,
 * which ModifyInstanceAttribute parameter the API field mirrors, and where ECS shows it. They are
 * plain data and import nothing outside src/api, so both layers below may use them: src/cloud derives
 * the reads (DescribeInstances decoding, which extra read fills which field), the SDK request and the
 * post-write view; src/reconciler derives the plan and the extra-read selection; scripts/gen-docs.ts
 * renders the table in docs/api.md. How a parameter is encoded into the SDK model stays in
 * src/cloud/ecs.ts (it needs the SDK's classes).
 *
 * A row's `name` is also its key path (dot-separated) in the observed instance, the Modify request
 * and `status.atProvider`; it is what `status.pendingChanges` lists. Adding an attribute: a schema
 * entry in spec.ts (and status.ts for atProvider), a row here, and the member in src/cloud/model.ts's
 * types.
 */

/** The instance states a field may be written in (docs/api.md, "How each attribute reaches ECS"). */
export type RequiredState = "Running or Stopped" | "Stopped" | "not Pending or Starting";

/** Extra single-instance reads, each costing one ECS call per instance; named after what they fill. */
export type ExtraRead = "jumboFrame" | "userData" | "nicQueue";

/**
 * How ECS shows a field's current value.
 * - `DescribeInstances`: batched (100 IDs per call), always read; `key` is the response path.
 * - an extra read: only when a spec needs it (see `readNeeded`); `extra` names it in ReadExtras.
 * - `none`: write-only; the source version applied is recorded in status instead.
 */
export type ReadSource =
  | { action: "DescribeInstances"; key: string }
  | { action: "DescribeInstanceAttribute" | "DescribeUserData" | "DescribeNetworkInterfaces"; key: string; extra: ExtraRead }
  | { action: "none" };

/**
 * The value's shape in ECS, which decides how a DescribeInstances value is decoded:
 * `text` → string (`""` when absent), `flag` → boolean, `count` → number or undefined,
 * `ids` → sorted unique strings, `base64` → Base64 text, `secret` → never read.
 */
export type FieldType = "text" | "flag" | "count" | "ids" | "base64" | "secret";

/**
 * When desired and observed are equal:
 * `equal` (===), `set` (same members, any order), `bytes` (Base64 compared by the decoded bytes),
 * `version` (the source version applied, recorded in status.appliedSecretVersions; never the value).
 */
export type Equality = "equal" | "set" | "bytes" | "version";

export interface FieldRow {
  /** Key path in observed/request/atProvider, and the name reported in pendingChanges. */
  name: string;
  /** Key path of the desired value in the spec, when it differs from `name`. */
  spec?: string;
  type: FieldType;
  read: ReadSource;
  equality: Equality;
  /** The spec value is compared by `version` instead when this holds (e.g. user data from a Secret). */
  versionedWhen?: (desired: unknown) => boolean;
  /** A spec value meaning "the type's default", which no read returns: sent once per generation. */
  typeDefault?: number;
  /** Absent: ECS accepts the field in any state. */
  states?: RequiredState;
  /**
   * A state some official texts require and others do not (user data: docs/api.md, "Sources of the
   * rules that the official texts disagree on"). The field is tried in any state `states` allows; when ECS refuses it with a
   * state code while the instance is in another state, the controller learns the rule for that
   * resource (a `NeedsStopped` hold in status.restartHolds, src/reconciler/holds.ts) and sends the
   * field once the instance is in this state.
   */
  learnedState?: "Stopped";
  /** Takes effect only after the instance is restarted from ECS (RestartRequired). */
  restart?: true;
  /**
   * ECS may go on showing the old value until the instance restarts (the docs say the hostname
   * "takes effect" at restart), and refuses a second change before that restart
   * (InvalidInstanceStatus.NeedRestart). The value sent is kept in status.restartHolds so that it is
   * not sent again while the read still shows the old one (docs/api.md, "Holds").
   */
  shownAfterRestart?: true;
  /** The value is secret: never in logs, Events, status or error text. */
  secret?: true;
  /** ModifyInstanceAttribute parameter; `.N` marks a repeated list. Its lower-camel path is `name`. */
  param: string;
  /** Status records only whether a value is present, under this atProvider key. */
  presenceIn?: string;
}

const describe = (key: string) => ({ action: "DescribeInstances", key }) as const;

/** User data from a Secret is compared by the Secret's version: its content must not be read back. */
const fromSecret = (desired: unknown) => typeof desired === "object" && desired !== null && "secretRef" in desired && desired.secretRef !== undefined;

/** The table. Order is the order of `differences`, `pendingChanges` and the docs table. */
export const FIELDS = [
  { name: "instanceName", type: "text", read: describe("InstanceName"), equality: "equal", param: "InstanceName" },
  { name: "description", type: "text", read: describe("Description"), equality: "equal", param: "Description" },
  {
    name: "hostName",
    type: "text",
    read: describe("HostName"),
    equality: "equal",
    states: "not Pending or Starting",
    restart: true,
    shownAfterRestart: true,
    param: "HostName",
  },
  { name: "securityGroupIds", type: "ids", read: describe("SecurityGroupIds.SecurityGroupId"), equality: "set", param: "SecurityGroupIds.N" },
  { name: "deletionProtection", type: "flag", read: describe("DeletionProtection"), equality: "equal", param: "DeletionProtection" },
  { name: "creditSpecification", type: "text", read: describe("CreditSpecification"), equality: "equal", param: "CreditSpecification" },
  {
    name: "enableJumboFrame",
    type: "flag",
    read: { action: "DescribeInstanceAttribute", key: "EnableJumboFrame", extra: "jumboFrame" },
    equality: "equal",
    states: "Running or Stopped",
    param: "EnableJumboFrame",
  },
  {
    name: "networkInterfaceQueueNumber",
    type: "count",
    read: { action: "DescribeNetworkInterfaces", key: "QueueNumber", extra: "nicQueue" },
    equality: "equal",
    typeDefault: -1,
    states: "Stopped",
    param: "NetworkInterfaceQueueNumber",
  },
  { name: "cpuOptions.core", type: "count", read: describe("CpuOptions.CoreCount"), equality: "equal", states: "Stopped", param: "CpuOptions.Core" },
  {
    name: "cpuOptions.threadsPerCore",
    type: "count",
    read: describe("CpuOptions.ThreadsPerCore"),
    equality: "equal",
    states: "Stopped",
    param: "CpuOptions.ThreadsPerCore",
  },
  {
    name: "cpuOptions.topologyType",
    type: "text",
    read: describe("CpuOptions.TopologyType"),
    equality: "equal",
    states: "Stopped",
    param: "CpuOptions.TopologyType",
  },
  dns("HostnameType", "text"),
  dns("EnableInstanceIdDnsARecord", "flag"),
  dns("EnableInstanceIdDnsAAAARecord", "flag"),
  dns("EnableIpDnsARecord", "flag"),
  dns("EnableIpDnsPtrRecord", "flag"),
  {
    name: "password",
    spec: "passwordSecretRef",
    type: "secret",
    read: { action: "none" },
    equality: "version",
    states: "not Pending or Starting",
    restart: true,
    secret: true,
    param: "Password",
  },
  {
    name: "userData",
    type: "base64",
    read: { action: "DescribeUserData", key: "UserData", extra: "userData" },
    equality: "bytes",
    versionedWhen: fromSecret,
    learnedState: "Stopped",
    restart: true,
    secret: true,
    param: "UserData",
    presenceIn: "userDataPresent",
  },
] as const satisfies readonly FieldRow[];

/** One PrivateDnsNameOptions.* row: read and written under the same name, any state. */
function dns<P extends string, T extends FieldType>(param: P, type: T) {
  const name = `privateDnsNameOptions.${lowerFirst(param)}` as `privateDnsNameOptions.${Uncapitalize<P>}`;
  return { name, type, read: describe(`PrivateDnsNameOptions.${param}`), equality: "equal", param: `PrivateDnsNameOptions.${param}` } as const;
}

/** A managed field's name (its key path), e.g. "cpuOptions.core". */
export type FieldName = (typeof FIELDS)[number]["name"];

/** The rows as the wider FieldRow type (for code that iterates without caring which row). */
export const FIELD_ROWS: readonly FieldRow[] = [...FIELDS];

/** The extra reads the table uses, in table order. */
export const EXTRA_READS: readonly ExtraRead[] = FIELD_ROWS.flatMap((r) => ("extra" in r.read ? [r.read.extra] : []));

/** Where the row's desired value sits in the spec. */
export function specPath(row: FieldRow): string {
  return row.spec ?? row.name;
}

/** True when the row is compared by the version of its source for this desired value. */
export function comparedByVersion(row: FieldRow, desired: unknown): boolean {
  return row.equality === "version" || (row.versionedWhen?.(desired) ?? false);
}

/**
 * True when the observed value must be read for this desired value: it is readable, not compared
 * by version, and not the "type default" sentinel (which no read returns).
 */
export function readNeeded(row: FieldRow, desired: unknown): boolean {
  if (desired === undefined || row.read.action === "none") return false;
  return !comparedByVersion(row, desired) && desired !== row.typeDefault;
}

/** Lower-cases the first letter: ECS parameter segment → SDK/model key (`CpuOptions` → `cpuOptions`). */
export function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// The paths are the field table's (a few dozen), read for every resource in every resync round:
// split each once (valueAt and putAt took ~0.2 s of a profiled idle round at 10,000, bench/RESULTS.md).
const SPLIT_PATHS = new Map<string, readonly string[]>();
const SPLIT_PATHS_MAX = 1024;

function splitPath(path: string): readonly string[] {
  let parts = SPLIT_PATHS.get(path);
  if (parts === undefined) {
    parts = path.split(".");
    if (SPLIT_PATHS.size < SPLIT_PATHS_MAX) SPLIT_PATHS.set(path, parts);
  }
  return parts;
}

/** The value at a dot-separated key path, or undefined when any step is missing. */
export function valueAt(obj: object, path: string): unknown {
  let cur: unknown = obj;
  for (const k of splitPath(path)) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/**
 * Sets the value at a dot-separated key path in `obj`, replacing (not mutating) every nested object
 * on the way, so an object shared with the caller's input is never changed.
 */
export function putAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  putAtParts(obj, splitPath(path), 0, value);
}

function putAtParts(obj: Record<string, unknown>, parts: readonly string[], i: number, value: unknown): void {
  const head = parts[i]!;
  if (i === parts.length - 1) {
    obj[head] = value;
    return;
  }
  const inner = obj[head];
  const copy: Record<string, unknown> = typeof inner === "object" && inner !== null ? { ...(inner as Record<string, unknown>) } : {};
  putAtParts(copy, parts, i + 1, value);
  obj[head] = copy;
}
