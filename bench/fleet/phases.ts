/**
 * The fleet benchmark's four phases (usage and what each measures: bench/fleet.ts's header). Each
 * returns its figures (the JSON section of the same name in the result) and the raw marks later
 * phases and the report need (times, CPU readings, API server histograms).
 */
import { randomBytes } from "node:crypto";
import type { RunningController } from "../../harness/controller.js";
import { mapLimit } from "../../harness/fleet.js";
import { sleep } from "../../harness/wait.js";
import { cpuSeconds, memoryMiB, rssSplitMiB, summary } from "../measure.js";
import { byAction, Calls, describes, idsPerDescribeInstances, mean, modifies } from "./calls.js";
import type { BenchConfig } from "./options.js";
import { GROUP, VERSION } from "../../src/api/index.js";
import { apiCpu, apiLatency, idOf, nameOf, NS, REGION, type Rig } from "./rig.js";

export interface Ctx {
  cfg: BenchConfig;
  rig: Rig;
  say: (s: string) => void;
}

export const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

export function mapRound<T extends Record<string, number>>(o: T, d = 1): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, d)])) as T;
}

// ------------------------------------------------------------------ 1. create

/** Creates N resources (controller not running yet) whose instanceName/description differ from the seed. */
export async function createPhase({ cfg, rig, say }: Ctx) {
  const latencyBefore = await apiLatency(rig);
  const apiCpu0 = apiCpu(rig);
  say(`creating ${cfg.N} resources (${cfg.createConcurrency} at a time)`);
  const createLat: number[] = [];
  const t0 = Date.now();
  await mapLimit(
    Array.from({ length: cfg.N }, (_, i) => i),
    cfg.createConcurrency,
    async (i) => createLat.push(await createOne(rig, i)),
  );
  const createS = (Date.now() - t0) / 1000;
  await createUnrelatedSecrets(rig, cfg, say);
  await rig.tracker.until(
    () => rig.tracker.objs.size >= cfg.N,
    60_000,
    "the bench watch to see every resource",
    () => rig.watchFailed(),
  );
  say(`created ${cfg.N} in ${createS.toFixed(1)} s (${(cfg.N / createS).toFixed(0)}/s)`);
  return {
    figures: { create_s: round(createS), creates_per_s: round(cfg.N / createS, 0), create_latency_ms: mapRound(summary(createLat)) },
    marks: { apiCpuS: apiCpu(rig) - apiCpu0, latencyBefore },
  };
}

/**
 * Secrets no resource references (e.g. Helm release Secrets, tens of KiB each): what a controller
 * caching every Secret it can list holds in memory for nothing.
 */
async function createUnrelatedSecrets(rig: Rig, cfg: BenchConfig, say: (s: string) => void): Promise<void> {
  const { count, kib } = cfg.unrelatedSecrets;
  if (count === 0) return;
  say(`creating ${count} unrelated Secrets of ${kib} KiB`);
  const payload = randomBytes(Math.floor((kib * 1024 * 3) / 4)).toString("base64");
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const r = await rig.kube.request("POST", `/api/v1/namespaces/${NS}/secrets`, { metadata: { name: `unrelated-${i}` }, data: { blob: payload } });
      if (r.status !== 201) throw new Error(`create Secret unrelated-${i}: HTTP ${r.status}`);
    },
  );
}

/** POSTs resource i (retrying 429 and 5xx); returns the successful round trip's ms. */
async function createOne(rig: Rig, i: number): Promise<number> {
  const body = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "EcsInstanceAttributes",
    metadata: { name: nameOf(i), namespace: NS },
    spec: { instanceId: idOf(i), regionId: REGION, instanceName: `web-${i}-v1`, description: `bench fleet member ${i}` },
  };
  for (let attempt = 0; ; attempt++) {
    const r = await rig.kube.request("POST", rig.base, body);
    if (r.status === 201) return r.ms;
    if (attempt >= 5 || (r.status !== 429 && r.status < 500)) throw new Error(`create ${nameOf(i)}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    await sleep(200 * (attempt + 1));
  }
}

// ------------------------------------------------------------------ 2. start

/**
 * Starts the controller (through `launch`), times "starting workers" (every resource observed) and
 * all Ready=True for their generation as the bench watch sees them.
 */
export async function startPhase({ cfg, rig, say }: Ctx, launch: () => Promise<RunningController>) {
  await rig.emu.admin.clearCallLog(); // only the controller's calls from here on
  const tStart = Date.now();
  const ctl = await launch();
  let exit: number | null | undefined;
  void ctl.exited.then((c) => (exit = c));
  const failIf = () => rig.watchFailed() ?? (exit !== undefined ? `controller exited with ${exit}:\n${ctl.logs().slice(-3000)}` : undefined);
  say(`controller pid ${ctl.pid}`);
  const emuCpu0 = cpuSeconds(rig.pids.emulator);
  const apiCpu1 = apiCpu(rig);
  const latencyStart = await apiLatency(rig);

  await ctl.waitForLog(/"msg":"starting workers"/, 120_000);
  const workersRec = ctl.logRecords().find((r) => r["msg"] === "starting workers");
  const tObserved = typeof workersRec?.["time"] === "number" ? workersRec["time"] : Date.now();
  say(`controller observed all resources ${((tObserved - tStart) / 1000).toFixed(2)} s after start; converging`);
  const idealS = cfg.N / cfg.Q;
  await rig.tracker.until(() => rig.tracker.readyCount >= cfg.N, Math.max(180_000, idealS * 20_000), `all ${cfg.N} Ready=True`, failIf);
  const tConverged = rig.tracker.lastReadyAt();
  const convergenceS = (tConverged - tObserved) / 1000;
  const marks = {
    ctl,
    failIf,
    tStart,
    tConverged,
    cpuConverged: cpuSeconds(ctl.pid),
    emuCpu0,
    emuCpuConverged: cpuSeconds(rig.pids.emulator),
    apiCpu1,
    apiCpuConverged: apiCpu(rig),
    latencyStart,
    latencyConverged: await apiLatency(rig),
    convCalls: 0,
  };
  say(`all ${cfg.N} Ready after ${convergenceS.toFixed(2)} s (ideal ${idealS.toFixed(1)} s)`);
  await sleep(1000);
  await rig.calls.drain();
  const convCalls = rig.calls.between(tStart, tConverged + 1);
  marks.convCalls = convCalls.length;
  const convModify = modifies(convCalls);
  const convModifyOk = convModify.filter((r) => r.code === "OK");
  const modifySpan = convModifyOk.length > 1 ? (Calls.arrival(convModifyOk.at(-1)!) - Calls.arrival(convModifyOk[0]!)) / 1000 : NaN;
  const convDescribe = describes(convCalls).length;
  const figures = {
    start_to_observed_s: round((tObserved - tStart) / 1000),
    convergence_s: round(convergenceS),
    start_to_all_ready_s: round((tConverged - tStart) / 1000),
    ideal_s: round(idealS),
    ratio: round(convergenceS / idealS),
    modify_calls: convModify.length,
    modify_ok: convModifyOk.length,
    first_to_last_modify_s: round(modifySpan),
    modify_rate_per_s: round(convModifyOk.length / modifySpan, 1),
    describe_calls: convDescribe,
    calls_by_action: byAction(convCalls),
    reads_vs_per_instance_pattern: round(convDescribe / (3 * cfg.N), 4),
    controller_cpu_s: round(marks.cpuConverged),
  };
  return { figures, marks };
}

// ------------------------------------------------------------------ 3. idle

/** R resync rounds with nothing to change: calls per round by action, status writes and their bursts. */
export async function idlePhase({ cfg, rig, say }: Ctx, ctl: RunningController, failIf: () => string | undefined) {
  const { tracker, calls } = rig;
  await sleep(2000);
  const tIdle0 = Date.now();
  const idleMs = cfg.idleRounds * cfg.resyncS * 1000;
  const cpu0 = cpuSeconds(ctl.pid);
  const emuCpu0 = cpuSeconds(rig.pids.emulator);
  const modEv0 = tracker.modifiedEvents;
  await eventLoopLag(ctl.metricsUrl); // prom-client resets its lag histogram at each scrape: start the window
  tracker.recordTimes = true;
  say(`idle: ${cfg.idleRounds} resync rounds (${idleMs / 1000} s)`);
  await tracker.until(() => Date.now() >= tIdle0 + idleMs, idleMs + 10_000, "idle rounds", failIf);
  const tIdle1 = Date.now();
  const lagIdle = await eventLoopLag(ctl.metricsUrl);
  const cpuIdle = cpuSeconds(ctl.pid) - cpu0;
  const emuCpuIdle = cpuSeconds(rig.pids.emulator) - emuCpu0;
  const statusWrites = tracker.modifiedEvents - modEv0;
  tracker.recordTimes = false;
  const burstS = writeBursts(tracker.modifiedTimes, cfg).map((b) => round((b.at(-1)! - b[0]!) / 1000, 1));
  await sleep(500);
  await calls.drain();
  const idleCalls = calls.between(tIdle0, tIdle1);
  const idleDescribe = describes(idleCalls);
  const idleDI = idleDescribe.filter((r) => r.action === "DescribeInstances").length;
  const perInstanceReads = 3 * cfg.N;
  const describePerRound = idleDescribe.length / cfg.idleRounds;
  const diPerRound = idleDI / cfg.idleRounds;
  const idealDI = Math.ceil(cfg.N / 100);
  const figures = {
    rounds: cfg.idleRounds,
    window_s: round((tIdle1 - tIdle0) / 1000),
    calls_by_action: byAction(idleCalls),
    describe_instances_per_round: round(diPerRound, 1),
    ideal_describe_instances_per_round: idealDI,
    describe_instances_vs_ideal: round(diPerRound / idealDI),
    ids_per_describe_instances: round(mean(idsPerDescribeInstances(idleCalls)), 1),
    other_describe_per_round: round((idleDescribe.length - idleDI) / cfg.idleRounds, 1),
    modify_calls: modifies(idleCalls).length,
    reads_per_round: round(describePerRound, 1),
    per_instance_pattern_reads_per_round: perInstanceReads,
    reads_vs_per_instance_pattern: round(describePerRound / perInstanceReads, 4),
    status_writes_per_round: round(statusWrites / cfg.idleRounds, 1),
    status_write_burst_s: burstS,
    eventloop_lag_ms: lagIdle,
    controller_cpu_s: round(cpuIdle),
  };
  return { figures, marks: { tIdle0, tIdle1, emuCpuIdle } };
}

/**
 * A resync round shows as a burst of status writes (at least N/10 of them, gaps under a quarter of
 * the resync period); its length is how long a spec change made during the round may wait behind
 * the round's queued keys.
 */
function writeBursts(times: readonly number[], cfg: BenchConfig): number[][] {
  const bursts: number[][] = [];
  for (const t of times) {
    const cur = bursts.at(-1);
    if (cur && t - cur.at(-1)! < (cfg.resyncS * 1000) / 4) cur.push(t);
    else bursts.push([t]);
  }
  return bursts.filter((b) => b.length >= cfg.N / 10);
}

// ------------------------------------------------------------------ 4. change

/**
 * Changes instanceName on P % of the resources, paced at Q/2 per second (below the write quota, so
 * the change-to-call latency is not rate-limit queueing), waits for Ready, and matches every spec
 * change to its ModifyInstanceAttribute in the call log.
 */
export async function changePhase({ cfg, rig, say }: Ctx, ctl: RunningController, failIf: () => string | undefined) {
  const step = Math.max(1, Math.round(100 / cfg.changePct));
  const changed = Array.from({ length: cfg.N }, (_, i) => i).filter((i) => i % step === 0);
  const paceQps = Math.max(1, cfg.Q / 2);
  say(`changing ${changed.length} specs at ${paceQps}/s`);
  const tChange0 = Date.now();
  const cpu0 = cpuSeconds(ctl.pid);
  await eventLoopLag(ctl.metricsUrl); // starts the window (see idlePhase)
  const sent = await sendChanges(rig, changed, tChange0, paceQps);
  const timedOut = await waitChangedReady(rig, changed, cfg, failIf, say);
  const tChangeDone = Date.now();
  const lagChange = await eventLoopLag(ctl.metricsUrl);
  await sleep(3000); // late or duplicate writes would show up here
  const tChange1 = Date.now();
  const cpuChange = cpuSeconds(ctl.pid) - cpu0;
  await rig.calls.drain();
  const changeCalls = rig.calls.between(tChange0, tChange1);
  const changeModify = modifies(changeCalls);
  const lat: number[] = [];
  const latCommitted: number[] = [];
  const latWatched: number[] = [];
  let unmatched = 0;
  for (const i of changed) {
    const id = idOf(i);
    const rec = changeModify.find((r) => r.params["InstanceId"] === id && r.params["InstanceName"] === `web-${i}-v2`);
    if (!rec) unmatched++;
    else {
      lat.push(Calls.arrival(rec) - sent.sentAt.get(id)!);
      latCommitted.push(Calls.arrival(rec) - sent.committedAt.get(id)!);
      const seen = rig.tracker.generationSeenAt.get(nameOf(i));
      if (seen !== undefined) latWatched.push(Calls.arrival(rec) - seen);
    }
  }
  return {
    changed: changed.length,
    timed_out: timedOut,
    paced_per_s: paceQps,
    modify_calls: changeModify.length,
    describe_instances_calls: changeCalls.filter((r) => r.action === "DescribeInstances").length,
    ids_per_describe_instances: round(mean(idsPerDescribeInstances(changeCalls)), 1),
    unmatched,
    change_to_modify_ms: mapRound(summary(lat), 1),
    // From the PATCH's answer instead of its sending: leaves out the API server's own write latency
    // (can be negative: the watch event may reach the controller before the answer reaches the bench).
    committed_change_to_modify_ms: mapRound(summary(latCommitted), 1),
    // From the moment the bench's own watch delivered the change (the controller's informer gets the
    // same event from the same API server): the controller's share, without API-server write and
    // watch-delivery time. Can be slightly negative when the controller's watch was served first.
    watched_change_to_modify_ms: mapRound(summary(latWatched), 1),
    all_ready_s: round((tChangeDone - tChange0) / 1000),
    patch_latency_ms: mapRound(summary(sent.patchLat), 1),
    controller_cpu_s: round(cpuChange),
    eventloop_lag_ms: lagChange,
  };
}

/** PATCHes the changed specs on schedule; records when each was sent and when its answer came. */
async function sendChanges(rig: Rig, changed: readonly number[], t0: number, paceQps: number) {
  const sentAt = new Map<string, number>();
  /** When the API server's answer to the spec PATCH arrived (the change is committed by then). */
  const committedAt = new Map<string, number>();
  const patchLat: number[] = [];
  await mapLimit(changed, 8, async (i, k) => {
    const wait = t0 + (k * 1000) / paceQps - Date.now();
    if (wait > 0) await sleep(wait);
    const t = Date.now();
    const r = await rig.kube.request(
      "PATCH",
      `${rig.base}/${nameOf(i)}`,
      { spec: { instanceName: `web-${i}-v2` } },
      { contentType: "application/merge-patch+json" },
    );
    if (r.status !== 200) throw new Error(`patch ${nameOf(i)}: HTTP ${r.status}`);
    patchLat.push(r.ms);
    sentAt.set(idOf(i), t);
    committedAt.set(idOf(i), Date.now());
  });
  return { sentAt, committedAt, patchLat };
}

/** Waits for the changed resources to be Ready at generation ≥ 2; true when that timed out. */
async function waitChangedReady(
  rig: Rig,
  changed: readonly number[],
  cfg: BenchConfig,
  failIf: () => string | undefined,
  say: (s: string) => void,
): Promise<boolean> {
  const { tracker } = rig;
  try {
    await tracker.until(
      () => changed.every((i) => tracker.objs.get(nameOf(i))?.ready && (tracker.objs.get(nameOf(i))?.generation ?? 0) >= 2),
      Math.max(300_000, (changed.length / cfg.Q) * 20_000),
      "changed resources Ready",
      failIf,
    );
    return false;
  } catch (e) {
    // A timeout still reports everything measured so far (change.timed_out = true).
    if (failIf()) throw e;
    say(`${(e as Error).message}; reporting what was measured`);
    return true;
  }
}

// ------------------------------------------------------------------ at the end

/** Closing readings: the controller's memory, CPU and own metrics, ECS counters, API server load. */
export async function closingReadings(rig: Rig, ctl: RunningController) {
  return {
    mem: memoryMiB(ctl.pid),
    rssSplit: rssSplitMiB(ctl.pid),
    ctlMetrics: await controllerMetrics(ctl.metricsUrl).catch((e: unknown) => ({ error: String(e) })),
    cpuTotal: cpuSeconds(ctl.pid),
    latencyEnd: await apiLatency(rig),
    apiCpuEnd: apiCpu(rig),
    counters: await rig.emu.admin.counters(),
    emuCpuEnd: cpuSeconds(rig.pids.emulator),
  };
}

/** A few of the controller's own Prometheus figures (memory split, event-loop lag). */
/**
 * The controller's event-loop lag since the previous scrape (prom-client's collector resets its
 * histogram on every scrape), p99 and max in ms; undefined if the scrape fails.
 */
async function eventLoopLag(url: string): Promise<{ p99: number; max: number } | undefined> {
  try {
    const m = await controllerMetrics(url);
    return { p99: m["eventloop_lag_p99_ms"]!, max: m["eventloop_lag_max_ms"]! };
  } catch {
    return undefined;
  }
}

async function controllerMetrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(url)).text();
  const pick = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const mib = (v: number) => round(v / 1048576, 1);
  return {
    heap_used_mib: mib(pick("nodejs_heap_size_used_bytes")),
    heap_total_mib: mib(pick("nodejs_heap_size_total_bytes")),
    external_mib: mib(pick("nodejs_external_memory_bytes")),
    rss_mib: mib(pick("process_resident_memory_bytes")),
    eventloop_lag_p99_ms: round(pick("nodejs_eventloop_lag_p99_seconds") * 1000, 1),
    eventloop_lag_max_ms: round(pick("nodejs_eventloop_lag_max_seconds") * 1000, 1),
  };
}
