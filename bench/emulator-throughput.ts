/**
 * Throughput of the ECS emulator itself, so fleet benchmarks know it is not the bottleneck.
 *
 *   npx tsx bench/emulator-throughput.ts [--seconds 5] [--concurrency 8]
 *
 * Runs the emulator as its own process (`src/emulator/main.ts`), drives it with the official SDK
 * (V3 signatures) from this process, and prints for each scenario: calls/s over wall-clock time,
 * and calls per CPU-second of the emulator process (from /proc/<pid>/stat), which is the
 * emulator's own capacity regardless of how much CPU the SDK client took.
 */
import { parseArgs } from "node:util";
import * as $Ecs from "@alicloud/ecs20140526";
import { ecsClient, startEmulatorProcess } from "../harness/emulator.js";
import { cpuSeconds } from "./measure.js";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "8" } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const FLEET = 1000;
const ids = Array.from({ length: FLEET }, (_, n) => `i-bench-${String(n).padStart(4, "0")}`);
const emu = await startEmulatorProcess({
  logLevel: "warn",
  seed: {
    securityGroups: [{ securityGroupId: "sg-bench", vpcId: "vpc-bench" }],
    instances: ids.map((instanceId) => ({ instanceId, vpcId: "vpc-bench", securityGroupIds: ["sg-bench"] })),
  },
});
const pid = emu.child.pid!;
const client = ecsClient(emu, { readTimeout: 30_000, connectTimeout: 30_000 });

type Scenario = { name: string; call: (n: number) => Promise<unknown> };
const scenarios: Scenario[] = [
  {
    name: "DescribeInstances, 100 IDs per call",
    call: (n) => {
      const start = (n * 100) % FLEET;
      return client.describeInstances(
        new $Ecs.DescribeInstancesRequest({ regionId: "cn-hangzhou", instanceIds: JSON.stringify(ids.slice(start, start + 100)), maxResults: 100 }),
      );
    },
  },
  {
    name: "ModifyInstanceAttribute (InstanceName + Description)",
    call: (n) =>
      client.modifyInstanceAttribute(
        new $Ecs.ModifyInstanceAttributeRequest({ instanceId: ids[n % FLEET]!, instanceName: `bench-${n}`, description: `run ${n}` }),
      ),
  },
];

async function run(s: Scenario, durationMs: number): Promise<{ calls: number; wall: number; cpu: number; errors: number }> {
  let calls = 0;
  let errors = 0;
  let next = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          await s.call(next++);
          calls++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { calls, errors, wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(pid) - cpu0 };
}

console.log(`emulator pid ${pid}, fleet ${FLEET} instances, concurrency ${concurrency}, ${seconds}s per scenario, node ${process.version}`);
for (const s of scenarios) {
  await run(s, 1000); // warm-up
  const r = await run(s, seconds * 1000);
  console.log(
    `${s.name}: ${r.calls} calls (${r.errors} errors) in ${r.wall.toFixed(2)}s wall = ${(r.calls / r.wall).toFixed(0)} calls/s; ` +
      `emulator CPU ${r.cpu.toFixed(2)}s = ${r.cpu > 0 ? (r.calls / r.cpu).toFixed(0) : "n/a"} calls per emulator CPU-second`,
  );
}
await emu.stop();
