/**
 * Reliability scenario 7 (issue 9): bad input. A property-based corpus (fast-check, fixed seed) of
 * 1,000+ specs — valid values mixed with random strings, Unicode, huge values and wrong types in
 * every field, plus unknown fields — goes to the real API server as server-side dry-run creates
 * (fieldValidation=Strict, as kubectl does). Each is either rejected at admission with a message
 * that names the field, or accepted. A subset of the accepted ones is created for real and
 * reconciled against the emulator: each ends applied (Ready=True) or with a stable reported
 * condition; the controller never crashes and never hot-loops, and every ECS request that broke an
 * emulator rule is counted — those a schema could have caught must be zero.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RunningController, startController } from "../../../harness/controller.js";
import { type EmulatorHandle, startEmulatorInProcess, TEST_ACCESS_KEY } from "../../../harness/emulator.js";
import { cond, findLeaks, Fleet, GROUP, KIND, mapLimit, PLURAL, REGION, type Resource, VERSION } from "../../../harness/fleet.js";
import { sleep, waitFor } from "../../../harness/wait.js";

const SEED = Number(process.env["ECS_ATTRS_BAD_INPUT_SEED"] ?? 20261127);
const CORPUS = 1_100;
const REAL = 40;
const ns = `rel-badinput-${Date.now().toString(36)}`;
const PASSWORD = "Corpus-Pw-0k!x";
const SEEDED = Array.from({ length: REAL }, (_, i) => `i-badin${String(i).padStart(3, "0")}`);

/** Codes a schema (CRD or the controller's own checks) can rule out before calling ECS. */
const AVOIDABLE = new Set([
  "InvalidInstanceName.Malformed",
  "InvalidDescription.Malformed",
  "InvalidHostName.Malformed",
  "InvalidPassword.Malformed",
  "InvalidHostPassword.Malformed",
  "InvalidParameter.SecurityGroupIdRepeated",
  "InvalidParameter.CreditSpecification",
  "InvalidUserData.SizeExceeded",
  "MissingParameter",
]);
/** Stable end states for a resource that is not applied (fix the spec, the cloud, or wait). */
const STABLE_READY_REASONS = new Set([
  "InvalidSpec",
  "InstanceNotFound",
  "SecretNotFound",
  "ConfigMapNotFound",
  "WaitingForInstanceState",
  "Conflict",
  "DriftDetected",
  "InstanceLocked",
]);

let fleet: Fleet;
let emu: EmulatorHandle;
let ctl: RunningController;
let crashed: number | null | undefined;
const report: Record<string, unknown> = { seed: SEED };

// ---- the corpus -------------------------------------------------------------------------------
const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "a",
    "http://example.com",
    "https://x",
    "-lead",
    "trail-",
    "a..b",
    "ñame-ü",
    "名字-测试",
    "😀😀",
    "\u0000nul",
    "x".repeat(300),
    "y".repeat(70_000),
  ),
);
const wrongType = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);
/** Mostly the existing object and key (first of each list), sometimes a missing one. */
const pick = (xs: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constant(xs[0]!) }, { weight: 1, arbitrary: fc.constantFrom(...xs) });
const ref = (names: string[], keys: string[]) => fc.record({ name: pick(names), key: pick(keys) });

/** Specs the schema should accept: every optional field valid when present. */
const validSpec = fc.record(
  {
    instanceId: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...SEEDED) }, { weight: 1, arbitrary: fc.stringMatching(/^i-[a-z0-9]{1,20}$/) }),
    regionId: fc.oneof({ weight: 5, arbitrary: fc.constant(REGION) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{2}-[a-z0-9]{1,8}$/) }),
    instanceName: fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{1,40}$/), fc.constantFrom("名字-测试", "web-01", "Ab")),
    description: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.-]{1,100}$/),
    hostName: fc.stringMatching(/^[a-z][a-z0-9]{1,20}$/),
    passwordSecretRef: ref(["pw", "missing-pw"], ["password", "nope"]),
    userData: fc.oneof(
      fc.record({ inlineBase64: fc.string({ minLength: 1, maxLength: 200 }).map((t) => Buffer.from(t).toString("base64")) }),
      fc.record({ secretRef: ref(["pw", "nosuch"], ["password", "x"]) }),
      fc.record({ configMapRef: ref(["ud", "nosuch"], ["data", "x"]) }),
    ),
    securityGroupIds: fc.oneof(
      { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom("sg-badin1", "sg-badin2"), { minLength: 1, maxLength: 2 }) },
      { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom("sg-badin1", "sg-elsewhere", "sg-nonexistent"), { minLength: 1, maxLength: 3 }) },
    ),
    deletionProtection: fc.boolean(),
    creditSpecification: fc.constantFrom("Standard", "Unlimited"),
    networkInterfaceQueueNumber: fc.integer({ min: 1, max: 16 }),
    enableJumboFrame: fc.boolean(),
    cpuOptions: fc.record(
      {
        core: fc.integer({ min: 1, max: 8 }),
        threadsPerCore: fc.integer({ min: 1, max: 2 }),
        topologyType: fc.constantFrom("DiscreteCoreToHyperThread", "ContinuousCoreToHyperThread"),
      },
      { requiredKeys: [] },
    ),
    privateDnsNameOptions: fc.record(
      {
        hostnameType: fc.constantFrom("Custom", "IpBased", "InstanceIdBased"),
        enableInstanceIdDnsARecord: fc.boolean(),
        enableIpDnsARecord: fc.boolean(),
        enableIpDnsPtrRecord: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    managementPolicy: fc.constantFrom("Apply", "Observe"),
    credentialsSecretRef: fc.record({ name: pick(["creds", "nocreds"]) }),
  },
  { requiredKeys: ["instanceId", "regionId"] },
);

const FIELDS = [
  "instanceId",
  "regionId",
  "instanceName",
  "description",
  "hostName",
  "passwordSecretRef",
  "userData",
  "securityGroupIds",
  "deletionProtection",
  "creditSpecification",
  "networkInterfaceQueueNumber",
  "enableJumboFrame",
  "cpuOptions",
  "privateDnsNameOptions",
  "managementPolicy",
  "credentialsSecretRef",
] as const;
/** Nested junk: a valid-looking object with one bad member. */
const nestedJunk = fc.oneof(
  fc.record({ name: junkString, key: junkString }),
  fc.record({ inlineBase64: junkString }),
  fc.record({ secretRef: fc.record({ name: junkString }), configMapRef: fc.record({ name: fc.constant("ud"), key: fc.constant("data") }) }),
  fc.array(junkString, { maxLength: 4 }),
  fc.record({ core: wrongType, threadsPerCore: fc.integer({ min: -5, max: 99 }), topologyType: junkString }, { requiredKeys: [] }),
  fc.record({ hostnameType: junkString, enableIpDnsARecord: wrongType }, { requiredKeys: [] }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
);
const mutation = fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(junkString, wrongType, nestedJunk, fc.constant(undefined)));

/** A valid spec with 0–3 fields replaced by junk, wrong types or nothing, and now and then an unknown field. */
const specArb = fc
  .tuple(
    validSpec,
    fc.oneof(
      { weight: 2, arbitrary: fc.constant([] as Array<[string, unknown]>) },
      { weight: 4, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    ),
    fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("surprise", 42) }),
  )
  .map(([valid, mutations, unknown]) => {
    const spec: Record<string, unknown> = { ...valid };
    for (const [k, v] of mutations) {
      if (v === undefined) delete spec[k];
      else spec[k] = v;
    }
    if (unknown !== undefined) spec["unknownField"] = unknown;
    return spec;
  });

interface Outcome {
  i: number;
  spec: Record<string, unknown>;
  accepted: boolean;
  status?: number;
  message?: string;
}

function errorInfo(e: unknown): { status: number; message: string } {
  const err = e as { code?: number; body?: unknown; message?: string };
  let message = err.message ?? String(e);
  try {
    const body = typeof err.body === "string" ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string } | undefined);
    if (body?.message) message = body.message;
  } catch {
    // keep err.message
  }
  return { status: err.code ?? 0, message };
}

beforeAll(async () => {
  fleet = await Fleet.open(inject("kubeconfigPath"), ns);
  emu = await startEmulatorInProcess({
    seed: {
      vpcs: [{ vpcId: "vpc-badin" }, { vpcId: "vpc-other" }],
      securityGroups: [
        { securityGroupId: "sg-badin1", vpcId: "vpc-badin" },
        { securityGroupId: "sg-badin2", vpcId: "vpc-badin" },
        { securityGroupId: "sg-elsewhere", vpcId: "vpc-other" },
      ],
      // Mostly a type that supports every attribute (so valid specs can be applied), a quarter a
      // plain one (so some attributes are refused by the cloud only); every other one Stopped (NIC
      // queues, CPU options and user data change only then).
      instanceTypes: [
        { instanceType: "ecs.flex.large", burstable: true, jumboFrame: true, maxQueueNumberPerEni: 16, totalEniQueueQuantity: 32 },
        { instanceType: "ecs.g7.large" },
      ],
      instances: SEEDED.map((instanceId, i) => ({
        instanceId,
        regionId: REGION,
        vpcId: "vpc-badin",
        securityGroupIds: ["sg-badin1"],
        instanceType: i % 4 === 3 ? "ecs.g7.large" : "ecs.flex.large",
        status: i % 2 === 1 ? ("Stopped" as const) : ("Running" as const),
      })),
    },
  });
  await fleet.secret("pw", { password: PASSWORD });
  await fleet.secret("creds", { ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_ACCESS_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_ACCESS_KEY.accessKeySecret });
  await fleet.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "ud" }, data: { data: "#!/bin/sh\necho corpus\n" } } });
  ctl = await startController({
    kubeconfig: inject("kubeconfigPath"),
    ecsEndpoint: emu.url,
    namespace: ns,
    args: ["--resync-period=5m", "--state-poll-interval=5s", "--concurrency=8"],
  });
  void ctl.exited.then((code) => (crashed = code));
  await ctl.waitForLog(/workers running/);
});

afterAll(async () => {
  if (ctl) report["leaks"] = findLeaks({ controllerLog: ctl.logs() }, [PASSWORD, TEST_ACCESS_KEY.accessKeySecret]).length;
  await ctl?.stop();
  await emu?.stop();
  await fleet?.deleteNamespace();
  process.stderr.write(`[reliability] bad-input figures: ${JSON.stringify(report)}\n`);
  expect(report["leaks"] ?? 0).toBe(0);
});

describe("reliability: bad input", () => {
  let outcomes: Outcome[] = [];

  it("scenario 7a: 1,100 generated specs at admission (dry run) → accepted, or rejected naming the field", async () => {
    const specs = fc.sample(specArb, { numRuns: CORPUS, seed: SEED });
    const started = Date.now();
    outcomes = await mapLimit(specs, 16, async (spec, i) => {
      try {
        await fleet.custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: PLURAL,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name: `corpus-${i}` }, spec },
          dryRun: "All",
          fieldValidation: "Strict",
        });
        return { i, spec, accepted: true };
      } catch (e) {
        return { i, spec, accepted: false, ...errorInfo(e) };
      }
    });
    report["dryRunMs"] = Date.now() - started;
    const rejected = outcomes.filter((o) => !o.accepted);
    const accepted = outcomes.filter((o) => o.accepted);
    report["corpus"] = { total: outcomes.length, accepted: accepted.length, rejected: rejected.length };
    report["rejectedByStatus"] = rejected.reduce<Record<string, number>>((m, o) => ((m[String(o.status)] = (m[String(o.status)] ?? 0) + 1), m), {});
    expect(outcomes.length).toBeGreaterThanOrEqual(1_000);
    expect(accepted.length).toBeGreaterThan(REAL);
    expect(rejected.length).toBeGreaterThan(100);

    // Every rejection is a clean 4xx that names a field of spec.
    const unclear = rejected.filter((o) => o.status === undefined || o.status < 400 || o.status >= 500 || !/\bspec(\.[A-Za-z]|\b)/.test(o.message ?? ""));
    report["unclearRejections"] = unclear.slice(0, 5).map((o) => ({ status: o.status, message: o.message?.slice(0, 300) }));
    expect(unclear.map((o) => `${o.status}: ${o.message?.slice(0, 200)}`)).toEqual([]);
    // Wrong types in any field never get through.
    for (const o of accepted) {
      for (const k of ["instanceName", "description", "hostName"]) {
        if (k in o.spec) expect(typeof o.spec[k], `${k} accepted as ${typeof o.spec[k]}`).toBe("string");
      }
      expect(o.spec["unknownField"]).toBeUndefined();
    }
  });

  it("scenario 7b: accepted specs created for real end applied or with a stable condition; no crash, no hot loop", async () => {
    const accepted = outcomes.filter((o) => o.accepted).slice(0, REAL);
    expect(accepted.length).toBe(REAL);
    // One seeded instance each (a few keep their generated ID), so the cloud can answer.
    const items = accepted.map((o, k) => ({
      name: `real-${k}`,
      spec: k % 8 === 7 ? o.spec : { ...o.spec, instanceId: SEEDED[k], regionId: REGION },
    }));
    const createErrors: string[] = [];
    await mapLimit(items, 8, async (it) => {
      try {
        await fleet.create(it.name, it.spec);
      } catch (e) {
        const info = errorInfo(e);
        createErrors.push(`${info.status}: ${info.message}`);
      }
    });
    expect(createErrors).toEqual([]);

    const settled = (o: Resource) => {
      const ready = cond(o, "Ready");
      const synced = cond(o, "Synced");
      return (
        o.status?.observedGeneration === o.metadata.generation &&
        ready !== undefined &&
        !["Pending", "ChangesPending"].includes(ready.reason) &&
        !["TransientError", "Throttled"].includes(synced?.reason ?? "")
      );
    };
    const started = Date.now();
    await fleet.waitConverged({ count: REAL, timeoutMs: 120_000, ok: settled, diag: () => ctl.logs().slice(-1500) });
    // On a loaded machine a first "settled" snapshot can still move (a later Conflict, a state wait
    // that resolves): take the outcome only once two snapshots 3 s apart agree.
    const snapshot = async () => {
      const items = await fleet.list();
      return { items, key: JSON.stringify(items.map((o) => [o.metadata.name, cond(o, "Ready")?.reason, cond(o, "Synced")?.reason]).sort()) };
    };
    let previous = await snapshot();
    const final = await waitFor(
      "outcomes to stop changing",
      async () => {
        await sleep(3_000);
        const next = await snapshot();
        const same = next.key === previous.key && next.items.every(settled);
        previous = next;
        return same ? next.items : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 0, diag: () => ctl.logs().slice(-1500) },
    );
    report["settleMs"] = Date.now() - started;

    const outcomesByReason: Record<string, number> = {};
    for (const o of final) {
      const ready = cond(o, "Ready")!;
      const synced = cond(o, "Synced");
      const key = ready.status === "True" ? ready.reason : `${ready.reason}${synced?.status === "False" ? `/${synced.reason}` : ""}`;
      outcomesByReason[key] = (outcomesByReason[key] ?? 0) + 1;
      if (ready.status === "True") {
        expect(ready.reason).toBe("InSync");
      } else {
        const terminal = synced?.status === "False" && ["TerminalError", "CredentialsError"].includes(synced.reason) && o.status?.error?.code !== undefined;
        expect(STABLE_READY_REASONS.has(ready.reason) || terminal, `${o.metadata.name}: ${JSON.stringify(o.status)} spec=${JSON.stringify(o.spec)}`).toBe(true);
        expect(ready.message.length).toBeGreaterThan(0);
      }
    }
    report["outcomes"] = outcomesByReason;
    // Both kinds of ending occur, and what claims InSync is what ECS holds.
    expect(outcomesByReason["InSync"] ?? 0, JSON.stringify(outcomesByReason)).toBeGreaterThan(0);
    expect(Object.keys(outcomesByReason).length).toBeGreaterThan(3);
    const instances = new Map((await emu.admin.listInstances()).map((x) => [x.instanceId, x]));
    for (const o of final.filter((x) => cond(x, "Ready")?.status === "True")) {
      const inst = instances.get(String(o.spec["instanceId"]));
      for (const k of ["instanceName", "description", "hostName", "deletionProtection"] as const) {
        if (k in o.spec) expect(inst?.[k], `${o.metadata.name} ${k}`).toEqual(o.spec[k]);
      }
    }

    // No hot loop: a quiet window brings no writes and only bounded state polling.
    const seq = (await emu.admin.callLog({ limit: 1 })).at(-1)?.seq ?? 0;
    await sleep(12_000);
    const window = await emu.admin.callLog({ since: seq });
    report["quietWindowCalls"] = window.length;
    expect(window.filter((c) => c.action === "ModifyInstanceAttribute")).toEqual([]);
    expect(window.length).toBeLessThanOrEqual(REAL * 3);

    // Requests that broke an emulator rule: the ones a schema could have caught must not happen.
    const all = await emu.admin.callLog({ action: "ModifyInstanceAttribute" });
    const violations = all.filter((c) => c.code !== "OK");
    report["emulatorRuleViolations"] = violations.reduce<Record<string, number>>((m, c) => ((m[c.code] = (m[c.code] ?? 0) + 1), m), {});
    expect(violations.filter((c) => AVOIDABLE.has(c.code)).map((c) => c.code)).toEqual([]);

    expect(crashed).toBeUndefined();
    expect(ctl.logs()).not.toMatch(/uncaught|unhandled/i);
  });
});
