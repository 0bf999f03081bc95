/** /metrics authorization decisions and their cache, against a scripted reviewer (the real API server path: test/e2e/packaging/controller-rbac.test.ts). */
import { X509Certificate } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { bearerToken, MetricsAuthorizer, type Reviewer, type UserInfo, verbFor } from "../../../src/runtime/metrics-auth.js";
import { secureMetrics } from "../../../src/runtime/metrics-server.js";

/** Tokens "alice" (allowed), "bob" (denied), "broken" (review fails); anything else is not a valid token. */
function scripted(): Reviewer & { calls: string[]; seen: string[] } {
  const calls: string[] = [];
  const seen: string[] = [];
  return {
    calls,
    seen,
    reviewToken(token) {
      calls.push("TokenReview");
      seen.push(token);
      if (token === "broken") return Promise.reject(new Error("connect ECONNREFUSED"));
      const users: Record<string, UserInfo> = {
        alice: { username: "system:serviceaccount:mon:prometheus", groups: ["system:serviceaccounts"] },
        bob: { username: "bob" },
      };
      return Promise.resolve(users[token]);
    },
    reviewAccess(user, path, verb) {
      calls.push(`SubjectAccessReview ${user.username} ${verb} ${path}`);
      return Promise.resolve({ allowed: user.username.startsWith("system:serviceaccount:mon:"), reason: "rbac" });
    },
  };
}

describe("MetricsAuthorizer", () => {
  it("401 without a bearer token, before asking the API server anything", async () => {
    const r = scripted();
    const auth = new MetricsAuthorizer(r);
    expect(await auth.check(undefined, "/metrics", "get")).toMatchObject({ status: 401 });
    expect(await auth.check("Basic YTpi", "/metrics", "get")).toMatchObject({ status: 401 });
    expect(r.calls).toEqual([]);
  });

  it("401 for a token the API server does not accept; 403 for a user RBAC denies; 200 for one it allows", async () => {
    const r = scripted();
    const auth = new MetricsAuthorizer(r);
    expect(await auth.check("Bearer nobody", "/metrics", "get")).toMatchObject({ status: 401 });
    expect(await auth.check("Bearer bob", "/metrics", "get")).toEqual({ status: 403, message: 'Forbidden: user "bob" cannot get path "/metrics"' });
    expect(await auth.check("Bearer alice", "/metrics", "get")).toEqual({ status: 200, user: "system:serviceaccount:mon:prometheus" });
    expect(r.calls).toEqual([
      "TokenReview",
      "TokenReview",
      "SubjectAccessReview bob get /metrics",
      "TokenReview",
      "SubjectAccessReview system:serviceaccount:mon:prometheus get /metrics",
    ]);
  });

  it("caches answers per token for their TTL (allowed 5 min, denied 30 s, user 1 min by default)", async () => {
    let t = 0;
    const r = scripted();
    const auth = new MetricsAuthorizer(r, { now: () => t });
    await auth.check("Bearer alice", "/metrics", "get");
    await auth.check("Bearer bob", "/metrics", "get");
    r.calls.length = 0;
    t = 29_000;
    expect((await auth.check("Bearer alice", "/metrics", "get")).status).toBe(200);
    expect((await auth.check("Bearer bob", "/metrics", "get")).status).toBe(403);
    expect(r.calls).toEqual([]);
    t = 31_000; // bob's denial expired; users are still cached
    await auth.check("Bearer bob", "/metrics", "get");
    expect(r.calls).toEqual(["SubjectAccessReview bob get /metrics"]);
    t = 61_000; // users expired, alice's allowance not
    r.calls.length = 0;
    await auth.check("Bearer alice", "/metrics", "get");
    expect(r.calls).toEqual(["TokenReview"]);
  });

  it("a failed review is a 500 and is retried on the next request (not cached)", async () => {
    const r = scripted();
    const auth = new MetricsAuthorizer(r);
    expect(await auth.check("Bearer broken", "/metrics", "get")).toMatchObject({ status: 500 });
    expect(await auth.check("Bearer broken", "/metrics", "get")).toMatchObject({ status: 500 });
    expect(r.calls).toEqual(["TokenReview", "TokenReview"]);
  });

  it("a rejected token is not cached (a just-created ServiceAccount may be valid a moment later)", async () => {
    const r = scripted();
    const auth = new MetricsAuthorizer(r);
    await auth.check("Bearer nobody", "/metrics", "get");
    await auth.check("Bearer nobody", "/metrics", "get");
    expect(r.calls).toEqual(["TokenReview", "TokenReview"]);
  });

  it("bounds each cache: beyond maxEntries the oldest entry is reviewed again", async () => {
    const r = scripted();
    const auth = new MetricsAuthorizer(r, { maxEntries: 1 });
    await auth.check("Bearer alice", "/metrics", "get");
    await auth.check("Bearer bob", "/metrics", "get");
    r.calls.length = 0;
    await auth.check("Bearer alice", "/metrics", "get");
    expect(r.calls).toEqual(["TokenReview", "SubjectAccessReview system:serviceaccount:mon:prometheus get /metrics"]);
  });

  it("never puts the token into a verdict", async () => {
    const auth = new MetricsAuthorizer(scripted());
    for (const token of ["nobody", "bob", "broken"])
      expect(JSON.stringify(await auth.check(`Bearer ${token}`, "/metrics", "get"))).not.toContain(token === "bob" ? "Bearer" : token);
  });
});

describe("request parsing", () => {
  it("takes the token of a Bearer header only", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Bearer ")).toBeUndefined();
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it("maps HTTP methods to the verbs a non-resource SubjectAccessReview carries", () => {
    expect(verbFor("GET")).toBe("get");
    expect(verbFor("HEAD")).toBe("get");
    expect(verbFor("POST")).toBe("create");
    expect(verbFor(undefined)).toBe("get");
  });
});

describe("secureMetrics", () => {
  it("self-signs without a certificate directory and authorizes requests through the reviewer", async () => {
    const r = scripted();
    const secure = await secureMetrics({ kubeConfig: new KubeConfig(), reviewer: r });
    expect(new X509Certificate(secure.tls.cert).checkHost("localhost")).toBe("localhost");
    const req = (authorization?: string, method = "GET") => ({ headers: { authorization }, method }) as IncomingMessage;
    expect(await secure.authorize(req("Bearer alice"), "/metrics")).toMatchObject({ status: 200 });
    expect(await secure.authorize(req("Bearer bob", "HEAD"), "/metrics")).toMatchObject({ status: 403 });
    expect(await secure.authorize(req(), "/metrics")).toMatchObject({ status: 401 });
    expect(r.calls).toContain("SubjectAccessReview bob get /metrics");
  });

  it("refuses to start with a certificate directory that holds no certificate", async () => {
    await expect(secureMetrics({ kubeConfig: new KubeConfig(), certDir: "/nonexistent-metrics-certs", reviewer: scripted() })).rejects.toThrow(/ENOENT/);
  });
});
