/** Refresh timing of temporary credentials (src/cloud/credentials.ts RefreshingSession), on a fake clock. */
import { describe, expect, it } from "vitest";
import { RefreshingSession, refreshTimes } from "../../../src/cloud/credentials.js";

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function fakeSts(clock: { t: number }, lifetimeMs: number) {
  let n = 0;
  const calls: number[] = [];
  const expiries = new Map<string, number>();
  let fail = false;
  return {
    calls,
    expiries,
    setFail(v: boolean) {
      fail = v;
    },
    inner: {
      getProviderName: () => "fake",
      refresher: async () => {
        calls.push(clock.t);
        await Promise.resolve();
        if (fail) throw new Error("sts down");
        n++;
        expiries.set(`STS.${n}`, clock.t + lifetimeMs);
        return { accessKeyId: `STS.${n}`, accessKeySecret: `s${n}`, securityToken: `t${n}`, expiration: iso(clock.t + lifetimeMs) };
      },
    },
  };
}

describe("refreshTimes", () => {
  it("soft refresh at 2/3 of the lifetime, hard at 5/6", () => {
    expect(refreshTimes(0, 60_000)).toEqual({ softAt: 40_000, hardAt: 50_000 });
    expect(refreshTimes(0, 3_600_000)).toEqual({ softAt: 2_400_000, hardAt: 3_000_000 });
  });
});

describe("RefreshingSession", () => {
  it("one STS call per session, not per use; a background refresh after 2/3; never hands out an expired key", async () => {
    const clock = { t: 1_000_000 };
    const sts = fakeSts(clock, 60_000);
    const s = new RefreshingSession(sts.inner, () => clock.t);
    const used: string[] = [];
    for (let i = 0; i < 600; i++) {
      const c = await s.getCredentials();
      used.push(c.accessKeyId);
      // The key handed out has at least a sixth of its lifetime (10 s) left.
      expect(sts.expiries.get(c.accessKeyId)! - clock.t, `key ${c.accessKeyId} at +${clock.t - 1_000_000} ms`).toBeGreaterThanOrEqual(10_000);
      clock.t += 1000; // one call per second for 10 minutes
      await Promise.resolve();
    }
    // 600 s at a 40-s refresh cadence: about 15 sessions, not 600.
    expect(sts.calls.length).toBeGreaterThanOrEqual(14);
    expect(sts.calls.length).toBeLessThanOrEqual(16);
    expect(new Set(used).size).toBe(sts.calls.length);
  });

  it("concurrent callers share one refresh", async () => {
    const clock = { t: 0 };
    const sts = fakeSts(clock, 60_000);
    const s = new RefreshingSession(sts.inner, () => clock.t);
    const all = await Promise.all(Array.from({ length: 20 }, () => s.getCredentials()));
    expect(sts.calls).toHaveLength(1);
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(["STS.1"]));
  });

  it("a failed refresh keeps the still-valid session; past expiry the failure surfaces", async () => {
    const clock = { t: 0 };
    const sts = fakeSts(clock, 60_000);
    const errors: unknown[] = [];
    const s = new RefreshingSession(
      sts.inner,
      () => clock.t,
      (e) => errors.push(e),
    );
    await s.getCredentials();
    sts.setFail(true);
    clock.t = 55_000; // past hardAt, before expiry
    expect((await s.getCredentials()).accessKeyId).toBe("STS.1");
    expect(errors).toHaveLength(1);
    clock.t = 61_000;
    await expect(s.getCredentials()).rejects.toThrow("sts down");
    sts.setFail(false);
    expect((await s.getCredentials()).accessKeyId).toBe("STS.2");
  });
});
