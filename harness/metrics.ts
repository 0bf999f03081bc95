/**
 * Scrapes a controller's /metrics the way Prometheus does: plain HTTP, or HTTPS with a bearer token
 * (the controller's default, src/runtime/metrics-server.ts). `ca` pins the serving certificate; without
 * it a self-signed certificate is accepted unverified, as a ServiceMonitor with
 * `tlsConfig.insecureSkipVerify` does.
 *
 *   const r = await scrapeMetrics(ctl.metricsUrl, { token });   // { status, body }
 *   const token = await serviceAccountToken(kubectl, "ns", "sa"); // TokenRequest API (kubectl create token)
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ScrapeOptions {
  token?: string;
  ca?: string;
  timeoutMs?: number;
}

export function scrapeMetrics(url: string, opts: ScrapeOptions = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const timeout = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req =
      u.protocol === "https:"
        ? httpsRequest(u, { headers, timeout, ca: opts.ca, rejectUnauthorized: opts.ca !== undefined })
        : httpRequest(u, { headers, timeout });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeout} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** A ServiceAccount token from the TokenRequest API, as the kubelet projects one into a Pod. */
export async function serviceAccountToken(
  kubectl: (args: string[]) => Promise<{ stdout: string; code: number; stderr: string }>,
  namespace: string,
  serviceAccount: string,
): Promise<string> {
  const r = await kubectl(["create", "token", serviceAccount, "-n", namespace, "--duration=1h"]);
  if (r.code !== 0) throw new Error(`kubectl create token ${serviceAccount}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}
