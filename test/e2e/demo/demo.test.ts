/**
 * The README's first command, run as a newcomer would (`npm run demo`, here with --once so it exits
 * after the final table): everything converges, the deliberate error surfaces with its ECS code,
 * the NIC-queue wait is resolved, and nothing is left running.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "../../..");

describe("npm run demo", () => {
  it("converges the examples and shows an ECS error as a condition", async () => {
    const child = spawn("npm", ["run", "demo", "--", "--once", "--timeout-seconds=150"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, out.slice(-3000)).toBe(0);
    expect(out).toMatch(/NAMESPACE\s+NAME\s+INSTANCE\s+REGION\s+READY\s+SYNCED\s+REASON\s+AGE/);
    for (const name of ["web-1", "app-1", "batch-1", "queue-demo"])
      expect(out).toMatch(new RegExp(`demo\\s+${name}\\s+i-\\S+\\s+cn-hangzhou\\s+True\\s+True\\s+InSync`));
    expect(out).toMatch(/demo\s+db-1\s+\S+\s+cn-hangzhou\s+False\s+True\s+DriftDetected/);
    expect(out).toContain("status.error.code=InvalidSecurityGroupVpc.NotBelongToOneVpc");
    expect(out).toContain("queue-demo waits for a Stopped instance");
    expect(out).not.toContain("not every resource settled");
  }, 240_000);
});
