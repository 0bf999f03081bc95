/**
 * The controller process: logger, metrics, wiring (app.ts), leader election, health and metrics
 * servers, and graceful shutdown. Resolves with the exit code once a signal has stopped everything.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import type { EcsInstanceAttributes } from "./api/index.js";
import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import type { EventSink } from "./reconciler/reconciler.js";
import { createLogger, flushLogger } from "./runtime/logging.js";
import { RuntimeMetrics } from "./runtime/metrics.js";

export async function runController(config: Config): Promise<number> {
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  const metrics = new RuntimeMetrics();
  const events = new DeferredEvents();
  const { controller, informers, kubeConfig } = buildApp({ config, log, events, registry: metrics.registry });
  events.core = kubeConfig.makeApiClient(CoreV1Api);

  controller.start();
  for (const inf of informers) inf.start();
  log.info({ namespace: config.namespace ?? "(all)", ecsEndpoint: config.ecsEndpoint ?? "(from region)", concurrency: config.concurrency }, "controller starting");
  void controller.startWorkers().then(() => log.info("informers synced; workers running"));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ signal, timeoutMs: config.shutdownTimeout }, "shutting down");
  const abandoned = await controller.stop(config.shutdownTimeout);
  await Promise.all(informers.map((i) => i.stop()));
  log.info({ abandoned }, "stopped");
  await flushLogger(log);
  return 0;
}

/** Placeholder sink replaced in the next step by the runtime's aggregating recorder. */
class DeferredEvents implements EventSink {
  core: CoreV1Api | undefined;
  record(obj: EcsInstanceAttributes, type: "Normal" | "Warning", reason: string, message: string): void {
    const ns = obj.metadata.namespace ?? "default";
    void this.core
      ?.createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { generateName: `${obj.metadata.name}.`, namespace: ns },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid },
          type,
          reason,
          message,
          source: { component: "ecs-attributes-controller" },
          firstTimestamp: new Date(),
          lastTimestamp: new Date(),
          count: 1,
        },
      })
      .catch(() => undefined);
  }
}
