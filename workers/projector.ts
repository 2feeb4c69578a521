/**
 * Projector worker: projects the `users` and `roles` topics into PostgreSQL.
 * Run N of these for scale-out; Kafka shares the partitions among them.
 * Serves its Prometheus metrics on PROJECTOR_METRICS_PORT (default 9464, 0 = off).
 * Also runs the read-model rebuilds asked for in the console (one worker claims each),
 * and, with ERASE_DELETED_USERS_AFTER set, the retention erasures (modules/privacy).
 */
import { databaseUrl, kafkaConfig, projectorLingerMs, projectorMetricsPort, rebuildDecodeThreads, rebuildNice } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { startMetricsServer } from "@/lib/metrics/metrics-server";
import { createProjector } from "@/lib/projection/projector";
import { runInThread } from "@/lib/process/thread";
import type { RebuildOutcome } from "@/lib/projection/rebuild/rebuild";
import { startRebuildPoller, type RebuildJob } from "@/lib/projection/rebuild/rebuild-jobs";
import { stopOnSignals } from "@/lib/process/stop-on-signals";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createEventAppender } from "@/lib/kafka/producer";
import { createPersonalDataKeys } from "@/lib/privacy/key-store";
import { app } from "@/modules";
import { retentionFromEnv, startRetention } from "@/modules/privacy/application/retention";

const log = getLogger();

async function main() {
  const config = kafkaConfig();
  const db = createDb(databaseUrl());
  const port = projectorMetricsPort();
  const metrics = await startMetricsServer(port, log);
  const projector = createProjector({ db, config, app, logger: log, metricsPort: metrics ? port : null, lingerMs: projectorLingerMs() });
  // Each rebuild runs in a thread of its own: the fold of the whole log stays off the live
  // projector's event loop (workers/rebuild-thread.ts); REBUILD_NICE can lower its priority.
  const nice = rebuildNice();
  // Read in the rebuild's thread; checked here too, so that a bad value stops the worker at its
  // start with the reason, not each rebuild the console asks for.
  rebuildDecodeThreads();
  const rebuilds = startRebuildPoller({
    db,
    config,
    app,
    logger: log,
    runner: `projector ${projector.instanceId}`,
    execute: (job) => runInThread<RebuildJob, RebuildOutcome>(new URL("./rebuild-thread.ts", import.meta.url), job, { nice }),
  });
  const retentionMs = retentionFromEnv();
  const keyWriter = retentionMs ? createDb(databaseUrl(), { poolSize: 2 }) : undefined;
  const personalData = createPersonalDataKeys(db, keyWrapperFromEnv(), { writer: keyWriter });
  const appender = retentionMs ? createEventAppender(config, { personalData }) : null;
  const retention = retentionMs && appender ? startRetention({ db, appender, personalData }, retentionMs, log) : null;
  // Bounded: a Kafka or PostgreSQL that is already gone cannot keep the process alive (issue 10).
  stopOnSignals({
    log: (level, msg, extra = {}) => log[level](extra, msg),
    steps: () => [
      { name: "rebuild poller", run: () => rebuilds.stop() },
      { name: "retention", run: async () => { await retention?.stop(); await appender?.disconnect(); await personalData.close(); await keyWriter?.$disconnect(); } },
      { name: "projector (Kafka consumer)", run: () => projector.stop() },
      { name: "database", run: () => db.$disconnect() },
      { name: "metrics server", run: () => metrics?.close() },
    ],
  });
  await projector.start();
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "projector failed to start");
  process.exit(1);
});
