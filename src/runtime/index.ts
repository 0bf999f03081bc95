/**
 * Generic controller runtime (knows nothing about ECS). See docs/runtime.md for the wiring.
 *
 *   informer.ts        Informer<T>: resilient list+watch cache (410 relist, backoff reconnect, watchdog)
 *   workqueue.ts       WorkQueue: dedup, per-key serialisation, backoff, addAfter, bounded concurrency
 *   controller.ts      Controller: informers → predicate → queue → reconcile(key, ctx) → Action
 *   predicates.ts      update filters (status-only updates do not enqueue)
 *   leader-election.ts LeaderElector on a coordination.k8s.io/v1 Lease
 *   events.ts          EventRecorder (events.k8s.io/v1) with series aggregation
 *   metrics.ts         RuntimeMetrics: controller-runtime metric names on a shared Registry
 *   health.ts          /metrics, /healthz, /readyz servers
 *   shutdown.ts        Shutdown: SIGTERM/SIGINT → ordered steps → exit 0
 *   logging.ts         pino factory, identity-only `obj` serializer, per-reconcile child logger
 */
export { Action, Controller, defaultErrorPolicy, TerminalError } from "./controller.js";
export type { ControllerOptions, ErrorAction, ErrorPolicy, ObjectKey, ReconcileContext, ReconcileFn, SecondaryWatch } from "./controller.js";
export { EventRecorder, kubeEventApi } from "./events.js";
export type { EventApi, EventRecorderOptions, EventType } from "./events.js";
export { EventLoopMonitor, informersSynced, leaderState, parseBindAddress, startHttpServers } from "./health.js";
export type { Check, CheckResult, HttpServers, HttpServersOptions } from "./health.js";
export { CoreResources, Informer, objectKey, resourcePath, splitKey } from "./informer.js";
export type { EventSource, InformerHandlers, InformerOptions, InformerStats, KubeObject, ResourceType } from "./informer.js";
export { KubeApiError, kubeRequest, microTime } from "./kube-http.js";
export { LeaderElector } from "./leader-election.js";
export type { LeaderElectionOptions } from "./leader-election.js";
export { createLogger, flushLogger, objectIdentity, reconcileLogger, serializers } from "./logging.js";
export type { LogFormat, Logger, LoggerConfig, ObjectIdentity } from "./logging.js";
export { RuntimeMetrics } from "./metrics.js";
export type { ReconcileResult } from "./metrics.js";
export {
  allOf,
  annotationsChanged,
  anyOf,
  deletionChanged,
  generationChanged,
  labelsChanged,
  resourceVersionChanged,
  specOrAnnotationsChanged,
} from "./predicates.js";
export type { UpdatePredicate } from "./predicates.js";
export { Shutdown } from "./shutdown.js";
export type { ShutdownOptions, ShutdownStep } from "./shutdown.js";
export { backoffDelay, WorkQueue } from "./workqueue.js";
export type { BackoffOptions, QueueMetrics, ShutdownResult, WorkQueueOptions } from "./workqueue.js";
