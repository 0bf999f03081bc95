/** The self-signed metrics certificate (hand-written DER) checked by Node's own X.509 parser and a real TLS handshake; files and rotation. */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createSecureContext } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type HttpServers, startHttpServers } from "../../../src/runtime/health.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";
import { readServingCert, selfSignedCert, watchServingCert } from "../../../src/runtime/serving-cert.js";

/** GET over HTTPS trusting only `ca`; resolves with the status, or rejects with the TLS error. */
function getPinned(url: string, ca: string, servername = "localhost"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject).end();
  });
}

describe("selfSignedCert", () => {
  it("is a v3 server certificate for the given names, signed by its own key, valid from a minute ago for a year", () => {
    const now = new Date("2026-03-01T12:00:00Z");
    const c = selfSignedCert({ hosts: ["localhost", "127.0.0.1", "::1", "pod-a"], now });
    const x = new X509Certificate(c.cert);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.issuer).toBe(x.subject);
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(x.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:pod-a");
    expect(x.checkHost("pod-a")).toBe("pod-a");
    expect(x.checkHost("other")).toBeUndefined();
    expect(new Date(x.validFrom).toISOString()).toBe("2026-03-01T11:59:00.000Z");
    expect(new Date(x.validTo).toISOString()).toBe("2027-03-01T12:00:00.000Z");
    expect(x.checkPrivateKey(createPrivateKey(c.key))).toBe(true);
  });

  it("uses GeneralizedTime after 2049 (RFC 5280)", () => {
    const x = new X509Certificate(selfSignedCert({ hosts: ["localhost"], now: new Date("2049-12-31T00:00:00Z"), days: 2 }).cert);
    expect(new Date(x.validTo).toISOString()).toBe("2050-01-02T00:00:00.000Z");
  });

  it("encodes any serial as a minimal positive INTEGER (leading zero bytes dropped, a high bit padded)", () => {
    // A random serial starts with 0x00 now and then; padded, OpenSSL refuses the certificate ("illegal padding").
    for (const hex of ["0001ff", "00007f", "80", "ff00", "00", "7f"]) {
      const c = selfSignedCert({ hosts: ["localhost"], serial: Buffer.from(hex, "hex") });
      const x = new X509Certificate(c.cert);
      expect(x.verify(x.publicKey), hex).toBe(true);
      expect(() => createSecureContext({ cert: c.cert, key: c.key }), hex).not.toThrow();
      expect(BigInt(`0x${x.serialNumber}`), hex).toBe(BigInt(`0x${hex}`));
    }
  });

  it("a fresh key and serial each time", () => {
    const a = new X509Certificate(selfSignedCert({ hosts: ["localhost"] }).cert);
    const b = new X509Certificate(selfSignedCert({ hosts: ["localhost"] }).cert);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.fingerprint256).not.toBe(b.fingerprint256);
  });
});

describe("HTTPS metrics server", () => {
  let servers: HttpServers | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await servers?.close();
    servers = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("completes a TLS handshake pinned to the self-signed certificate, refuses a client pinned to another, and swaps certificates in place", async () => {
    const first = selfSignedCert({ hosts: ["localhost", "127.0.0.1"] });
    servers = await startHttpServers({ metricsBindAddress: "127.0.0.1:0", registry: new RuntimeMetrics().registry, metricsTls: first });
    expect(servers.metricsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await getPinned(`${servers.metricsUrl}/metrics`, first.cert);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^# HELP /m);
    const second = selfSignedCert({ hosts: ["localhost"] });
    await expect(getPinned(`${servers.metricsUrl}/metrics`, second.cert)).rejects.toThrow(/self[- ]signed|unable to verify|signature/i);
    servers.setMetricsTls(second);
    expect((await getPinned(`${servers.metricsUrl}/metrics`, second.cert)).status).toBe(200);
  });

  it("answers the authorizer's refusal with its status and message, and serves the body only on 200", async () => {
    const tls = selfSignedCert({ hosts: ["localhost"] });
    servers = await startHttpServers({
      metricsBindAddress: "127.0.0.1:0",
      healthProbeBindAddress: "127.0.0.1:0",
      registry: new RuntimeMetrics().registry,
      metricsTls: tls,
      metricsAuthorize: (req) => Promise.resolve(req.headers.authorization === "Bearer ok" ? { status: 200 } : { status: 401, message: "Unauthorized" }),
    });
    const denied = await getPinned(`${servers.metricsUrl}/metrics`, tls.cert);
    expect(denied).toEqual({ status: 401, body: "Unauthorized\n" });
    // Probes stay plain HTTP and unauthenticated (the kubelet has no token).
    expect((await fetch(`${servers.healthUrl}/healthz`)).status).toBe(200);
  });

  it("refuses to put HTTPS metrics on the probes' address", async () => {
    await expect(
      startHttpServers({
        metricsBindAddress: "127.0.0.1:18999",
        healthProbeBindAddress: "127.0.0.1:18999",
        registry: new RuntimeMetrics().registry,
        metricsTls: selfSignedCert({ hosts: ["localhost"] }),
      }),
    ).rejects.toThrow(/cannot share the probes' address/);
  });
});

describe("certificate files", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads tls.crt/tls.key, refuses a key of another certificate, and reports a rotation", async () => {
    dir = await mkdtemp(join(tmpdir(), "eac-cert-"));
    const a = selfSignedCert({ hosts: ["localhost"] });
    const b = selfSignedCert({ hosts: ["localhost"] });
    await writeFile(join(dir, "tls.crt"), a.cert);
    await writeFile(join(dir, "tls.key"), a.key);
    expect(await readServingCert(dir)).toEqual(a);
    await writeFile(join(dir, "tls.key"), b.key);
    await expect(readServingCert(dir)).rejects.toThrow(/is not the key of/);

    await writeFile(join(dir, "tls.key"), a.key);
    const seen: string[] = [];
    const stop = watchServingCert(dir, a, (c) => seen.push(c.cert), undefined, 20);
    await writeFile(join(dir, "tls.crt"), b.cert);
    await writeFile(join(dir, "tls.key"), b.key);
    await expect.poll(() => seen, { timeout: 5000 }).toEqual([b.cert]);
    stop();
  });
});
