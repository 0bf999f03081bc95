/**
 * The secure /metrics setup (--metrics-secure, the default): a serving certificate (from
 * --metrics-cert-path, re-read on rotation, or self-signed at startup) and the TokenReview +
 * SubjectAccessReview authorizer (src/runtime/metrics-auth.ts). The result plugs into
 * startHttpServers (src/runtime/health.ts):
 *
 *   const secure = await secureMetrics({ kubeConfig, certDir, logger });
 *   const servers = await startHttpServers({ ..., metricsTls: secure.tls, metricsAuthorize: secure.authorize });
 *   const stopWatch = secure.watch((c) => servers.setMetricsTls(c));
 */
import type { IncomingMessage } from "node:http";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { kubeReviewer, MetricsAuthorizer, type Reviewer, type Verdict, verbFor } from "./metrics-auth.js";
import { readServingCert, type ServingCert, selfSignedCert, watchServingCert } from "./serving-cert.js";

export interface SecureMetricsOptions {
  kubeConfig: KubeConfig;
  /** Directory with tls.crt and tls.key; empty: a self-signed certificate. */
  certDir?: string;
  logger?: Logger;
  /** For tests: another reviewer than the API server's. */
  reviewer?: Reviewer;
}

export interface SecureMetrics {
  tls: ServingCert;
  authorize: (req: IncomingMessage, path: string) => Promise<Verdict>;
  /** Calls `onChange` when the files in certDir change; a no-op for a self-signed certificate. */
  watch: (onChange: (c: ServingCert) => void) => () => void;
}

/** Names a self-signed certificate carries: loopback (port-forward, local runs) and the pod's hostname. */
function selfSignedHosts(): string[] {
  return [...new Set(["localhost", "127.0.0.1", "::1", hostname()])];
}

export async function secureMetrics(opts: SecureMetricsOptions): Promise<SecureMetrics> {
  const certDir = opts.certDir || undefined;
  const tls = certDir ? await readServingCert(certDir) : selfSignedCert({ hosts: selfSignedHosts() });
  opts.logger?.info({ certificate: certDir ?? "self-signed" }, "metrics served over HTTPS with TokenReview/SubjectAccessReview");
  const authorizer = new MetricsAuthorizer(opts.reviewer ?? kubeReviewer(opts.kubeConfig), { logger: opts.logger });
  return {
    tls,
    authorize: (req, path) => authorizer.check(req.headers.authorization, path, verbFor(req.method)),
    watch: (onChange) => (certDir ? watchServingCert(certDir, tls, onChange, opts.logger) : () => undefined),
  };
}
