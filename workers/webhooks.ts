/**
 * Webhooks worker (consumer group WEBHOOKS_GROUP_ID): queues each event for the
 * subscriptions that select it, sends the signed requests, runs replays
 * (modules/webhooks, README "Webhooks"). Serves its metrics on
 * WEBHOOKS_METRICS_PORT (default 9474, 0 = off).
 */
import { databaseUrl, kafkaConfig } from "@/lib/config";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { startMetricsServer } from "@/lib/metrics/metrics-server";
import { stopOnSignals } from "@/lib/process/stop-on-signals";
import { webhooksConfig } from "@/modules/webhooks/config";
import { createWebhooksWorker } from "@/modules/webhooks/delivery/webhooks-worker";

const log = getLogger().child({ worker: "webhooks" });

async function main() {
  const config = webhooksConfig();
  const keys = keyWrapperFromEnv();
  const db = createDb(databaseUrl());
  const metrics = await startMetricsServer(config.WEBHOOKS_METRICS_PORT, log);
  const worker = createWebhooksWorker({ db, keys, config, kafkaConfig: kafkaConfig(), logger: log, metricsPort: metrics ? config.WEBHOOKS_METRICS_PORT : null });
  // Bounded: a Kafka or PostgreSQL that is already gone cannot keep the process alive (issue 10).
  stopOnSignals({
    log: (level, msg, extra = {}) => log[level](extra, msg),
    steps: () => [
      ...worker.steps(),
      { name: "database", run: () => db.$disconnect() },
      { name: "metrics server", run: () => metrics?.close() },
    ],
  });
  await worker.start();
  if (config.WEBHOOKS_ALLOW_PRIVATE_TARGETS) log.warn("WEBHOOKS_ALLOW_PRIVATE_TARGETS is set: loopback and private targets are allowed");
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "webhooks worker failed to start");
  process.exit(1);
});
