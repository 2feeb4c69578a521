/**
 * Projector worker: projects the `users` and `roles` topics into PostgreSQL.
 * Run N of these for scale-out; Kafka shares the partitions among them.
 * Serves its Prometheus metrics on PROJECTOR_METRICS_PORT (default 9464, 0 = off).
 * Also runs the read-model rebuilds asked for in the console (one worker claims each).
 */
import { databaseUrl, kafkaConfig, projectorMetricsPort } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { startMetricsServer } from "@/lib/metrics/metrics-server";
import { createProjector } from "@/lib/projection/projector";
import { startRebuildPoller } from "@/lib/projection/rebuild/rebuild-jobs";

const log = getLogger();

async function main() {
  const config = kafkaConfig();
  const db = createDb(databaseUrl());
  const port = projectorMetricsPort();
  const metrics = await startMetricsServer(port, log);
  const projector = createProjector({ db, config, logger: log, metricsPort: metrics ? port : null });
  const rebuilds = startRebuildPoller({ db, config, logger: log, runner: `projector ${projector.instanceId}` });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `received ${signal}, stopping`);
    rebuilds
      .stop()
      .then(() => projector.stop())
      .then(() => db.$disconnect())
      .then(() => metrics?.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, "projector did not stop cleanly");
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  await projector.start();
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "projector failed to start");
  process.exit(1);
});
