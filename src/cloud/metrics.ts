// Prometheus metrics for ECS API calls. The registry is passed in (main wires the runtime's one);
// registering twice into one registry reuses the existing metrics.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface EcsMetrics {
  /** One finished ECS request: `code` is `Success` or the ECS / synthetic error code. */
  observe(action: string, region: string, code: string, seconds: number): void;
  /** An endpoint's circuit breaker changed state (breaker.ts). */
  circuit(endpoint: string, state: "closed" | "open" | "halfOpen"): void;
}

export const NOOP_METRICS: EcsMetrics = { observe: () => undefined, circuit: () => undefined };

export const REQUESTS_TOTAL = "ecs_api_requests_total";
export const REQUEST_DURATION = "ecs_api_request_duration_seconds";
export const CIRCUIT_STATE = "ecs_endpoint_circuit_state";
export const CIRCUIT_TRANSITIONS = "ecs_endpoint_circuit_transitions_total";

const CIRCUIT_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

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
  const circuitState =
    (registry.getSingleMetric(CIRCUIT_STATE) as Gauge<"endpoint"> | undefined) ??
    new Gauge({
      name: CIRCUIT_STATE,
      help: "Circuit breaker state per ECS endpoint: 0 closed, 1 half-open (probing), 2 open (calls fail fast).",
      labelNames: ["endpoint"] as const,
      registers: [registry],
    });
  const circuitTransitions =
    (registry.getSingleMetric(CIRCUIT_TRANSITIONS) as Counter<"endpoint" | "state"> | undefined) ??
    new Counter({
      name: CIRCUIT_TRANSITIONS,
      help: "Circuit breaker state changes per ECS endpoint, by the state entered.",
      labelNames: ["endpoint", "state"] as const,
      registers: [registry],
    });
  return {
    observe(action, region, code, seconds) {
      requests.inc({ action, region, code });
      duration.observe({ action, region }, seconds);
    },
    circuit(endpoint, state) {
      circuitState.set({ endpoint }, CIRCUIT_VALUE[state]);
      circuitTransitions.inc({ endpoint, state });
    },
  };
}
