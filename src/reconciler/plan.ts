/**
 * The plan: desired spec vs observed instance → the minimal ModifyInstanceAttribute request.
 * Pure (no I/O, no clock), so every rule here is unit-tested directly.
 *
 * - Only fields set in the spec are managed; an omitted field is never sent.
 * - Values that ECS cannot return (password, user data from a Secret) are compared by the version of
 *   their source recorded in status, never by value or hash.
 * - Fields whose instance-state precondition does not hold right now (ecs-api.md §3) are held back
 *   and reported, while every other difference is applied in the same call.
 */
import type { AppliedSource, EcsInstanceAttributesSpec } from "../api/index.js";
import type { ModifyRequest, ObservedInstance } from "../cloud/model.js";

/** A resolved write-only input: its value and the identity of the version it came from. */
export interface ResolvedValue {
  /** The value to send (password in clear text, user data in Base64). Never logged. */
  value: string;
  /** Identifies the source version; compared with status.appliedSecretVersions. */
  source: Omit<AppliedSource, "appliedTime">;
}

export interface PlanInputs {
  spec: EcsInstanceAttributesSpec;
  generation: number;
  observed: ObservedInstance;
  /** Resolved password, when spec.passwordSecretRef is set. */
  password?: ResolvedValue | undefined;
  /** Resolved user data (Base64), when spec.userData is set. */
  userData?: ResolvedValue | undefined;
  /** status.appliedSecretVersions from the last successful apply. */
  applied?: { password?: AppliedSource | undefined; userData?: AppliedSource | undefined } | undefined;
  /** status.observedGeneration, when the last reconcile of that generation synced without error. */
  lastSyncedGeneration?: number | undefined;
}

/** The instance states a field may be written in (ecs-api.md §3); absent = any state. */
export type RequiredState = "Running or Stopped" | "Stopped" | "not Pending or Starting";

export interface HeldBack {
  field: string;
  needs: RequiredState;
}

export interface Plan {
  /** Spec fields (dotted for nested options) whose desired value differs from ECS now. */
  differences: string[];
  /** The fields held back because the instance is in the wrong state. */
  heldBack: HeldBack[];
  /** The request to send now, or undefined when nothing can or needs to be written. */
  request: ModifyRequest | undefined;
  /** Fields in `request` that only take effect after an ECS restart (password, hostName, userData). */
  restartFields: string[];
}

const STATE_RULES: Record<string, RequiredState> = {
  hostName: "not Pending or Starting",
  password: "not Pending or Starting",
  userData: "Stopped",
  enableJumboFrame: "Running or Stopped",
  networkInterfaceQueueNumber: "Stopped",
  "cpuOptions.core": "Stopped",
  "cpuOptions.threadsPerCore": "Stopped",
  "cpuOptions.topologyType": "Stopped",
};

const RESTART_FIELDS = new Set(["password", "hostName", "userData"]);

export function stateAllows(needs: RequiredState | undefined, status: string): boolean {
  switch (needs) {
    case undefined:
      return true;
    case "Stopped":
      return status === "Stopped";
    case "Running or Stopped":
      return status === "Running" || status === "Stopped";
    case "not Pending or Starting":
      return status !== "Pending" && status !== "Starting";
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && [...sa].every((x) => b.includes(x));
}

/** True when `applied` records exactly the source version in `current`. */
export function sameSource(applied: AppliedSource | undefined, current: ResolvedValue["source"]): boolean {
  if (!applied) return false;
  return (
    applied.kind === current.kind &&
    applied.name === current.name &&
    applied.key === current.key &&
    applied.uid === current.uid &&
    applied.resourceVersion === current.resourceVersion &&
    applied.generation === current.generation
  );
}

/** Base64 strings are compared by the bytes they encode (ECS may re-encode). */
function sameBase64(a: string | undefined, b: string | undefined): boolean {
  return Buffer.from(a ?? "", "base64").equals(Buffer.from(b ?? "", "base64"));
}

/** The spec fields whose value lives only in a Secret, so the plan compares versions. */
function userDataIsVersioned(spec: EcsInstanceAttributesSpec): boolean {
  return spec.userData?.secretRef !== undefined;
}

/** Which single-instance reads the spec needs (each costs one ECS call per instance). */
export function extrasFor(spec: EcsInstanceAttributesSpec): { jumboFrame: boolean; userData: boolean; nicQueue: boolean } {
  return {
    jumboFrame: spec.enableJumboFrame !== undefined,
    // Secret-sourced user data is compared by version, so its content need not be read back.
    userData: spec.userData !== undefined && !userDataIsVersioned(spec),
    // -1 ("type default") cannot be compared with a number, so it is not read back either.
    nicQueue: spec.networkInterfaceQueueNumber !== undefined && spec.networkInterfaceQueueNumber !== -1,
  };
}

export function plan(inputs: PlanInputs): Plan {
  const { spec, observed } = inputs;
  const request: ModifyRequest = { instanceId: spec.instanceId };
  const differences: string[] = [];
  const heldBack: HeldBack[] = [];
  const restartFields: string[] = [];

  /** Records a difference and, when the state allows, puts it into the request. */
  const differ = (field: string, put: () => void) => {
    differences.push(field);
    const needs = STATE_RULES[field];
    if (!stateAllows(needs, observed.status)) {
      heldBack.push({ field, needs: needs! });
      return;
    }
    put();
    if (RESTART_FIELDS.has(field)) restartFields.push(field);
  };

  if (spec.instanceName !== undefined && spec.instanceName !== observed.instanceName) {
    differ("instanceName", () => (request.instanceName = spec.instanceName));
  }
  if (spec.description !== undefined && spec.description !== observed.description) {
    differ("description", () => (request.description = spec.description));
  }
  if (spec.hostName !== undefined && spec.hostName !== observed.hostName) {
    differ("hostName", () => (request.hostName = spec.hostName));
  }
  if (spec.securityGroupIds !== undefined && !sameSet(spec.securityGroupIds, observed.securityGroupIds)) {
    differ("securityGroupIds", () => (request.securityGroupIds = [...spec.securityGroupIds!]));
  }
  if (spec.deletionProtection !== undefined && spec.deletionProtection !== observed.deletionProtection) {
    differ("deletionProtection", () => (request.deletionProtection = spec.deletionProtection));
  }
  if (spec.creditSpecification !== undefined && spec.creditSpecification !== observed.creditSpecification) {
    differ("creditSpecification", () => (request.creditSpecification = spec.creditSpecification));
  }
  if (spec.enableJumboFrame !== undefined && spec.enableJumboFrame !== observed.enableJumboFrame) {
    differ("enableJumboFrame", () => (request.enableJumboFrame = spec.enableJumboFrame));
  }
  const queues = spec.networkInterfaceQueueNumber;
  if (queues !== undefined) {
    // -1 restores the type default, which no read returns: send it once per generation.
    const differs = queues === -1 ? inputs.lastSyncedGeneration !== inputs.generation : queues !== observed.networkInterfaceQueueNumber;
    if (differs) differ("networkInterfaceQueueNumber", () => (request.networkInterfaceQueueNumber = queues));
  }

  const cpu = spec.cpuOptions;
  if (cpu) {
    const put = (k: "core" | "threadsPerCore" | "topologyType", v: number | string) => {
      request.cpuOptions = { ...request.cpuOptions, [k]: v };
    };
    if (cpu.core !== undefined && cpu.core !== observed.cpuOptions.core) differ("cpuOptions.core", () => put("core", cpu.core!));
    if (cpu.threadsPerCore !== undefined && cpu.threadsPerCore !== observed.cpuOptions.threadsPerCore) {
      differ("cpuOptions.threadsPerCore", () => put("threadsPerCore", cpu.threadsPerCore!));
    }
    if (cpu.topologyType !== undefined && cpu.topologyType !== observed.cpuOptions.topologyType) {
      differ("cpuOptions.topologyType", () => put("topologyType", cpu.topologyType!));
    }
  }

  const dns = spec.privateDnsNameOptions;
  if (dns) {
    for (const k of Object.keys(dns) as (keyof typeof dns)[]) {
      const want = dns[k];
      if (want === undefined || want === observed.privateDnsNameOptions[k]) continue;
      differ(`privateDnsNameOptions.${k}`, () => {
        request.privateDnsNameOptions = { ...request.privateDnsNameOptions, [k]: want };
      });
    }
  }

  if (spec.passwordSecretRef && inputs.password && !sameSource(inputs.applied?.password, inputs.password.source)) {
    const pw = inputs.password.value;
    differ("password", () => (request.password = pw));
  }

  if (spec.userData && inputs.userData) {
    const ud = inputs.userData;
    const differs = userDataIsVersioned(spec) ? !sameSource(inputs.applied?.userData, ud.source) : !sameBase64(ud.value, observed.userData);
    if (differs) differ("userData", () => (request.userData = ud.value));
  }

  const writes = Object.keys(request).length > 1;
  return { differences, heldBack, request: writes ? request : undefined, restartFields };
}
