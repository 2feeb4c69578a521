/** Process entry for a notifier worker: configuration, start, and one bounded stop on SIGTERM/SIGINT/SIGHUP. */
import { databaseUrl, kafkaConfig, notifierConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { stopOnSignals } from "@/lib/process/stop-on-signals";
import type { NotifierFactory } from "./notifiers";

export function runNotifierWorker(name: string, create: NotifierFactory): void {
  const logger = getLogger().child({ worker: name });
  const line = (level: "info" | "error" | "fatal", msg: string, extra: Record<string, unknown> = {}) => logger[level](extra, msg);
  const start = async () => {
    const db = createDb(databaseUrl());
    const notifier = create({ db, config: kafkaConfig(), notifier: notifierConfig() });
    // Bounded: a Kafka or PostgreSQL that is already gone cannot keep the process alive (issue 10).
    stopOnSignals({
      log: (level, msg, extra) => line(level, msg, extra),
      steps: () => [
        { name: "notifier (Kafka consumer)", run: () => notifier.stop() },
        { name: "database", run: () => db.$disconnect() },
      ],
    });
    await notifier.start();
  };
  start().catch((error: unknown) => {
    line("fatal", "failed to start", { error: String(error) });
    process.exit(1);
  });
}
