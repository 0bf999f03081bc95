/**
 * Prometheus metrics with controller-runtime's names, on a prom-client Registry that the domain
 * layer shares (it registers e.g. `ecs_api_requests_total` into `metrics.registry`).
 *
 *   const metrics = new RuntimeMetrics();               // own Registry (+ Node process metrics)
 *   new Controller({ …, metrics });                     // reconcile_* and workqueue_* series
 *   new LeaderElector({ …, metrics });                  // leader_election_master_status
 *   createEcsMetrics(metrics.registry);                 // domain metrics on the same registry
 *   await metrics.registry.metrics();                   // text exposition (health.ts serves it)
 *
 * Series
 *   controller_runtime_reconcile_total{controller,result}       result: success|error|requeue|requeue_after
 *   controller_runtime_reconcile_errors_total{controller}
 *   controller_runtime_reconcile_time_seconds{controller}        histogram
 *   controller_runtime_active_workers{controller}
 *   controller_runtime_max_concurrent_reconciles{controller}
 *   workqueue_depth{name,controller}
 *   workqueue_adds_total{name,controller}
 *   workqueue_retries_total{name,controller}
 *   workqueue_queue_duration_seconds{name,controller}           histogram
 *   workqueue_work_duration_seconds{name,controller}            histogram
 *   leader_election_master_status{name}                          1 leading, 0 not
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueMetrics } from "./workqueue.js";

export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

export interface RuntimeMetricsOptions {
  registry?: Registry;
  /** Register Node.js process metrics (default true). */
  processMetrics?: boolean;
}

const QUEUE_BUCKETS = [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10,
  15, 20, 25, 30, 40, 50, 60,
];

export class RuntimeMetrics {
  readonly registry: Registry;
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly workers: Gauge<"controller">;
  private readonly maxConcurrent: Gauge<"controller">;
  private readonly depth: Gauge<"name" | "controller">;
  private readonly adds: Counter<"name" | "controller">;
  private readonly retries: Counter<"name" | "controller">;
  private readonly queueDuration: Histogram<"name" | "controller">;
  private readonly workDuration: Histogram<"name" | "controller">;
  private readonly leader: Gauge<"name">;

  constructor(opts: RuntimeMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller, by result.",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller.",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller.",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.workers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller.",
      labelNames: ["controller"],
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller.",
      labelNames: ["controller"],
      registers,
    });
    this.depth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue.", labelNames: ["name", "controller"], registers });
    this.adds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue.",
      labelNames: ["name", "controller"],
      registers,
    });
    this.retries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue.",
      labelNames: ["name", "controller"],
      registers,
    });
    this.queueDuration = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested.",
      labelNames: ["name", "controller"],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes.",
      labelNames: ["name", "controller"],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.leader = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
      labelNames: ["name"],
      registers,
    });
  }

  /** Hooks for one work queue (name = controller name). */
  queue(name: string): QueueMetrics {
    const l = { name, controller: name };
    this.depth.set(l, 0);
    this.adds.inc(l, 0);
    this.retries.inc(l, 0);
    return {
      depth: (n) => this.depth.set(l, n),
      added: () => this.adds.inc(l),
      retried: () => this.retries.inc(l),
      queueDuration: (s) => this.queueDuration.observe(l, s),
      workDuration: (s) => this.workDuration.observe(l, s),
    };
  }

  reconcileDone(controller: string, result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    this.reconcileTime.observe({ controller }, seconds);
  }

  reconcileError(controller: string): void {
    this.reconcileErrors.inc({ controller });
  }

  activeWorkers(controller: string, delta: number): void {
    this.workers.inc({ controller }, delta);
  }

  setMaxConcurrent(controller: string, n: number): void {
    this.maxConcurrent.set({ controller }, n);
    this.workers.inc({ controller }, 0);
    for (const result of ["success", "error", "requeue", "requeue_after"] as const) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
  }

  leaderStatus(name: string, leading: boolean): void {
    this.leader.set({ name }, leading ? 1 : 0);
  }
}
