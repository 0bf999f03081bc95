/**
 * The controller process: logger, metrics, wiring (app.ts), leader election, Events, the metrics
 * and probe servers, and graceful shutdown. Resolves with the exit code once a signal stopped it.
 *
 * Shutdown order (each step gets what is left of --shutdown-timeout): finish in-flight reconciles →
 * release the Lease (only now, so the next leader never overlaps our writes) → stop watches →
 * flush Events → close the ECS clients → close the HTTP servers → flush logs.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { buildApp, loadKubeConfig, VERSION_STRING } from "./app.js";
import { type Config, credentialEnv } from "./config.js";
import { EventRecorder } from "./runtime/events.js";
import { EventLoopMonitor, informersSynced, leaderState, startHttpServers } from "./runtime/health.js";
import { LeaderElector } from "./runtime/leader-election.js";
import { secureMetrics } from "./runtime/metrics-server.js";
import { createLogger, flushLogger } from "./runtime/logging.js";
import { RuntimeMetrics } from "./runtime/metrics.js";
import { Shutdown } from "./runtime/shutdown.js";

/** The namespace this pod runs in (in-cluster), for the Lease. */
function podNamespace(): string | undefined {
  if (process.env["POD_NAMESPACE"]) return process.env["POD_NAMESPACE"];
  try {
    return readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Leader election: the leader starts the workers; a lost lease ends the process (a fresh one campaigns again). */
function startElection(
  config: Config,
  kubeConfig: KubeConfig,
  identity: string,
  log: Logger,
  metrics: RuntimeMetrics,
  startWorkers: () => void,
): LeaderElector {
  const elector = new LeaderElector({
    kubeConfig,
    namespace: config.leaderElectionNamespace ?? podNamespace() ?? "default",
    name: config.leaderElectionId,
    identity,
    leaseDurationMs: config.leaderElectLeaseDuration,
    renewDeadlineMs: config.leaderElectRenewDeadline,
    retryPeriodMs: config.leaderElectRetryPeriod,
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
  return elector;
}

export async function runController(config: Config): Promise<number> {
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  Object.assign(process.env, credentialEnv(config, process.env));
  const identity = `${process.env["POD_NAME"] ?? hostname()}_${randomBytes(4).toString("hex")}`;
  const metrics = new RuntimeMetrics();

  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const recorder = new EventRecorder({
    kubeConfig,
    reportingController: "ecs.alicloud.dev/ecs-attributes-controller",
    reportingInstance: identity.slice(0, 128),
    logger: log.child({ component: "events" }),
  });
  const { controller, informers, cloud, sweeper, sets, providerConfigs } = buildApp({
    config,
    kubeConfig,
    log,
    metrics,
    events: recorder,
    stsEndpoint: config.stsEndpoint,
  });

  // Standbys run informers too (warm caches make failover fast); only the leader runs workers.
  controller.start();
  sets.controller.start();
  providerConfigs.start();
  for (const inf of [...informers, sets.informer]) inf.start();
  log.info(
    {
      version: VERSION_STRING,
      identity,
      namespace: config.namespace ?? "(all)",
      ecsEndpoint: config.ecsEndpoint ?? "(from region)",
      concurrency: config.concurrency,
      leaderElect: config.leaderElect,
    },
    "controller starting",
  );
  // Leader only: the first resync round reads the whole fleet in batches of 100 before the workers
  // start, so the initial reconciles need no reads of their own.
  const startWorkers = () =>
    void (async () => {
      await Promise.all(informers.map((i) => i.waitForSync()));
      // Sets start on their own: a cluster without the set CRD still runs the main controller.
      void sets.informer.waitForSync().then(() => sets.controller.startWorkers());
      await sweeper.start();
      await controller.startWorkers();
      await providerConfigs.startWorkers();
      log.info("informers synced; workers running");
    })();

  const elector = config.leaderElect ? startElection(config, kubeConfig, identity, log, metrics, startWorkers) : undefined;
  if (!elector) startWorkers();

  const loop = new EventLoopMonitor();
  const secure =
    config.metricsSecure && config.metricsBindAddress !== "0"
      ? await secureMetrics({ kubeConfig, certDir: config.metricsCertPath, logger: log.child({ component: "metrics-auth" }) })
      : undefined;
  const servers = await startHttpServers({
    metricsBindAddress: config.metricsBindAddress,
    healthProbeBindAddress: config.healthProbeBindAddress,
    registry: metrics.registry,
    liveness: { "event-loop": loop.check },
    readiness: { informers: informersSynced(controller), "leader-election": leaderState(elector) },
    logger: log.child({ component: "http" }),
    metricsTls: secure?.tls,
    metricsAuthorize: secure?.authorize,
  });
  const stopCertWatch = secure?.watch((c) => servers.setMetricsTls(c));
  log.info({ metrics: servers.metricsUrl, health: servers.healthUrl }, "serving metrics and probes");

  const steps = [
    { name: "stop resync rounds", run: () => sweeper.stop() },
    { name: "drain workers", run: (left: number) => Promise.all([controller.stop(left), sets.controller.stop(left)]) },
    { name: "drain provider-config workers", run: (left: number) => providerConfigs.stop(left) },
    { name: "release lease", run: () => elector?.stop() },
    { name: "stop watches", run: () => Promise.all([...informers, sets.informer].map((i) => i.stop())) },
    { name: "flush events", run: () => recorder.close() },
    { name: "close ECS clients", run: () => cloud.close() },
    {
      name: "close http",
      run: () => {
        stopCertWatch?.();
        return servers.close();
      },
    },
    { name: "stop event-loop monitor", run: () => loop.stop() },
  ];
  // Resolves once a signal ran every step (a second signal exits at once with 1).
  const code = await new Promise<number>((resolve) => {
    new Shutdown({ logger: log, timeoutMs: config.shutdownTimeout, steps, exit: resolve }).install();
  });
  await flushLogger(log);
  return code;
}
