// Prometheus metrics for ECS API calls. The registry is passed in (main wires the runtime's one);
// registering twice into one registry reuses the existing metrics.

import { Counter, Histogram, type Registry } from "prom-client";

export interface EcsMetrics {
  /** One finished ECS request: `code` is `Success` or the ECS / synthetic error code. */
  observe(action: string, region: string, code: string, seconds: number): void;
}

export const NOOP_METRICS: EcsMetrics = { observe: () => undefined };

export const REQUESTS_TOTAL = "ecs_api_requests_total";
export const REQUEST_DURATION = "ecs_api_request_duration_seconds";

export function createEcsMetrics(registry: Registry | undefined): EcsMetrics {
  if (!registry) return NOOP_METRICS;
  const existingCounter = registry.getSingleMetric(REQUESTS_TOTAL);
  const existingHist = registry.getSingleMetric(REQUEST_DURATION);
  const requests =
    (existingCounter as Counter<"action" | "region" | "code"> | undefined) ??
    new Counter({
      name: REQUESTS_TOTAL,
      help: "ECS API requests sent, by action, region and result code (Success or the ECS error code).",
      labelNames: ["action", "region", "code"] as const,
      registers: [registry],
    });
  const duration =
    (existingHist as Histogram<"action" | "region"> | undefined) ??
    new Histogram({
      name: REQUEST_DURATION,
      help: "Duration of ECS API requests in seconds (one HTTP exchange, without client-side rate-limit waits).",
      labelNames: ["action", "region"] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return {
    observe(action, region, code, seconds) {
      requests.inc({ action, region, code });
      duration.observe({ action, region }, seconds);
    },
  };
}
