/** The CLI's HTTPS listener and STS lifetime flags (src/emulator/main.ts). */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { loopbackCertificate, trustInThisProcess } from "../../../harness/tls.js";

describe("ecs-emulator --tls-cert/--tls-key/--sts-lifetime-seconds", () => {
  it("prints an https URL next to the http one; both serve the admin API; the lifetime flag is applied", async () => {
    const tls = await loopbackCertificate();
    trustInThisProcess(tls.cert);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/emulator/main.ts",
        "--tls-cert",
        tls.certFile,
        "--tls-key",
        tls.keyFile,
        "--sts-lifetime-seconds",
        "60",
        "--log-level",
        "silent",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`exited ${code}`)));
      });
      const ready = JSON.parse(line) as { listening: string; https: string };
      expect(ready.listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.https).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const sts = await (await fetch(`${ready.https}/_emulator/sts`)).json();
      expect(sts).toEqual({ lifetimeSeconds: 60 });
      expect((await fetch(`${ready.listening}/_emulator/health`)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("--tls-cert without --tls-key is a one-line error, exit 2", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/emulator/main.ts", "--tls-cert", "/nonexistent"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("ecs-emulator: --tls-cert and --tls-key go together");
  });
});
