/**
 * Projector worker: projects the `users` and `roles` topics into PostgreSQL.
 * Run N of these for scale-out; Kafka shares the partitions among them.
 */
import { databaseUrl, kafkaConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { createProjector } from "@/lib/projection/projector";

async function main() {
  const config = kafkaConfig();
  const db = createDb(databaseUrl());
  const projector = createProjector({ db, config });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: "info", msg: `received ${signal}, stopping` }));
    projector
      .stop()
      .then(() => db.$disconnect())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  await projector.start();
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: "fatal", msg: "projector failed to start", error: String(error) }));
  process.exit(1);
});
