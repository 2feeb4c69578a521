/** Process entry for a notifier worker: configuration, start, and one clean stop on SIGTERM/SIGINT. */
import { databaseUrl, kafkaConfig, notifierConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import type { NotifierFactory } from "./notifiers";

export function runNotifierWorker(name: string, create: NotifierFactory): void {
  const logger = getLogger().child({ worker: name });
  const line = (level: "info" | "error" | "fatal", msg: string, extra: Record<string, unknown> = {}) => logger[level](extra, msg);
  const start = async () => {
    const db = createDb(databaseUrl());
    const notifier = create({ db, config: kafkaConfig(), notifier: notifierConfig() });
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      line("info", `received ${signal}, stopping`);
      notifier
        .stop()
        .then(() => db.$disconnect())
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          line("error", "unclean stop", { error: String(error) });
          process.exit(1);
        });
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
    await notifier.start();
  };
  start().catch((error: unknown) => {
    line("fatal", "failed to start", { error: String(error) });
    process.exit(1);
  });
}
