import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createLogger, objectIdentity, reconcileLogger } from "../../../src/runtime/logging.js";
import { Shutdown } from "../../../src/runtime/shutdown.js";

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines };
}

const resource = {
  apiVersion: "ecs.alicloud.dev/v1alpha1",
  kind: "EcsInstanceAttributes",
  metadata: { namespace: "ns", name: "web", uid: "u-1", resourceVersion: "42", generation: 3, managedFields: [{ big: true }] },
  spec: { instanceId: "i-1", userData: { inlineBase64: "c2VjcmV0LXVzZXItZGF0YQ==" } },
  data: { password: "hunter2" },
};

describe("logging", () => {
  it("logs objects under `obj` by identity only", () => {
    const { stream, lines } = sink();
    const log = createLogger({ level: "info", destination: stream });
    log.info({ obj: resource, objs: [resource, "not an object"] }, "applied");
    const rec = JSON.parse(lines[0]!);
    expect(rec.obj).toEqual({
      apiVersion: "ecs.alicloud.dev/v1alpha1",
      kind: "EcsInstanceAttributes",
      namespace: "ns",
      name: "web",
      uid: "u-1",
      resourceVersion: "42",
      generation: 3,
    });
    expect(rec.objs).toEqual([rec.obj, {}]);
    expect(rec.level).toBe("info");
    expect(lines[0]).not.toContain("hunter2");
    expect(lines[0]).not.toContain("c2VjcmV0");
    expect(lines[0]).not.toContain("managedFields");
    expect(objectIdentity("a string")).toEqual({});
  });

  it("gives each reconcile a child logger with controller, namespace, name and reconcileID", () => {
    const { stream, lines } = sink();
    const log = createLogger({ destination: stream });
    const a = reconcileLogger(log, { controller: "c", namespace: "ns", name: "web" });
    const b = reconcileLogger(log, { controller: "c", namespace: "ns", name: "web" });
    a.log.info("x");
    expect(JSON.parse(lines[0]!)).toMatchObject({ controller: "c", namespace: "ns", name: "web", reconcileID: a.reconcileID });
    expect(a.reconcileID).not.toBe(b.reconcileID);
  });

  it("pretty format prints human-readable lines", () => {
    const { stream, lines } = sink();
    const log = createLogger({ format: "pretty", destination: stream });
    log.info({ obj: resource }, "hello");
    const text = lines.join("");
    expect(text).toContain("INFO");
    expect(text).toContain("hello");
    expect(text).not.toContain("hunter2");
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe("Shutdown", () => {
  const quiet = () => pino({ level: "silent" });

  it("runs the steps in order once, gives each the time left, then exits 0", async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const sd = new Shutdown({
      logger: quiet(),
      timeoutMs: 10_000,
      exit: (c) => exits.push(c),
      steps: [
        { name: "stop informers", run: () => void order.push("informers") },
        {
          name: "drain",
          run: async (left) => {
            order.push(`drain:${left > 9_000}`);
            await new Promise((r) => setTimeout(r, 20));
          },
        },
        { name: "release lease", run: () => void order.push("lease") },
      ],
    });
    expect(sd.signal.aborted).toBe(false);
    const p1 = sd.shutdown("test");
    const p2 = sd.shutdown("again");
    expect(sd.signal.aborted).toBe(true);
    await Promise.all([p1, p2]);
    expect(order).toEqual(["informers", "drain:true", "lease"]);
    expect(exits).toEqual([0]);
  });

  it("a failing or overrunning step does not stop later steps (the Lease still gets released)", async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const sd = new Shutdown({
      logger: quiet(),
      timeoutMs: 1_000,
      exit: (c) => exits.push(c),
      steps: [
        {
          name: "throws",
          run: () => {
            throw new Error("boom");
          },
        },
        { name: "hangs", run: () => new Promise(() => undefined) },
        { name: "release lease", run: () => void order.push("lease") },
      ],
    });
    await sd.shutdown("test");
    expect(order).toEqual(["lease"]);
    expect(exits).toEqual([0]);
  });

  it("SIGTERM starts it; a second signal exits 1 at once", async () => {
    const exits: number[] = [];
    let release!: () => void;
    const sd = new Shutdown({
      logger: quiet(),
      exit: (c) => exits.push(c),
      signals: ["SIGUSR2"],
      steps: [{ name: "slow", run: () => new Promise<void>((r) => (release = r)) }],
    }).install();
    process.emit("SIGUSR2", "SIGUSR2");
    await new Promise((r) => setTimeout(r, 10));
    expect(sd.signal.aborted).toBe(true);
    process.emit("SIGUSR2", "SIGUSR2");
    expect(exits).toEqual([1]);
    release();
    await sd.shutdown("x");
    expect(exits).toEqual([1, 0]);
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});
