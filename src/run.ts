/**
 * The controller process: logger, metrics, wiring (app.ts), leader election, health and metrics
 * servers, and graceful shutdown. Resolves with the exit code once a signal has stopped everything.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { CoreV1Api } from "@kubernetes/client-node";
import type { EcsInstanceAttributes } from "./api/index.js";
import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import type { EventSink } from "./reconciler/reconciler.js";
import { LeaderElector } from "./runtime/leader-election.js";
import { createLogger, flushLogger } from "./runtime/logging.js";
import { RuntimeMetrics } from "./runtime/metrics.js";

export async function runController(config: Config): Promise<number> {
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  const metrics = new RuntimeMetrics();
  const events = new DeferredEvents();
  const { controller, informers, kubeConfig, cloud } = buildApp({ config, log, events, registry: metrics.registry });
  events.core = kubeConfig.makeApiClient(CoreV1Api);

  // Standbys run informers too (warm caches make failover fast); only the leader runs workers.
  controller.start();
  for (const inf of informers) inf.start();
  log.info({ namespace: config.namespace ?? "(all)", ecsEndpoint: config.ecsEndpoint ?? "(from region)", concurrency: config.concurrency, leaderElect: config.leaderElect }, "controller starting");
  const startWorkers = () => void controller.startWorkers().then(() => log.info("informers synced; workers running"));

  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    const identity = `${process.env["POD_NAME"] ?? hostname()}_${randomBytes(4).toString("hex")}`;
    elector = new LeaderElector({
      kubeConfig,
      namespace: config.leaderElectionNamespace ?? podNamespace() ?? "default",
      name: config.leaderElectionId,
      identity,
      logger: log.child({ component: "leader-election" }),
      metrics,
      onStartedLeading: () => {
        log.info({ identity }, "became leader");
        startWorkers();
      },
      onStoppedLeading: ({ lost }) => {
        if (!lost) return;
        // Another replica may already be writing: stop at once, as controller-runtime does.
        log.error({ identity }, "leadership lost; exiting so a fresh process can campaign again");
        void flushLogger(log).then(() => process.exit(1));
      },
    });
    elector.start();
  } else {
    startWorkers();
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ signal, timeoutMs: config.shutdownTimeout }, "shutting down");
  const abandoned = await controller.stop(config.shutdownTimeout);
  // Release the Lease only after in-flight writes finished, so the next leader never overlaps them.
  await elector?.stop();
  cloud.close();
  await Promise.all(informers.map((i) => i.stop()));
  log.info({ abandoned }, "stopped");
  await flushLogger(log);
  return 0;
}

/** The namespace this pod runs in (in-cluster), for the Lease. */
function podNamespace(): string | undefined {
  if (process.env["POD_NAMESPACE"]) return process.env["POD_NAMESPACE"];
  try {
    return readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8").trim();
  } catch {
    return undefined;
  }
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
