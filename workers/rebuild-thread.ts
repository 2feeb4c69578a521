/**
 * A projector worker's rebuild, in a thread of its own at a lower CPU priority (lib/process/thread.ts):
 * the fold of the whole log no longer runs on the live projector's event loop, and it yields the
 * CPU to the console, the broker and the live projector when they want it (REBUILD_NICE).
 * Progress, heartbeat, cancellation and the outcome go through the rebuild's row, as before.
 */
import { databaseUrl, kafkaConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { threadMain } from "@/lib/process/thread";
import { executeRebuild, type RebuildJob } from "@/lib/projection/rebuild/rebuild-jobs";
import { app } from "@/modules";

threadMain(async (job: RebuildJob) => {
  const db = createDb(databaseUrl());
  try {
    return await executeRebuild({ db, config: kafkaConfig(), app, logger: getLogger().child({ thread: "rebuild" }) }, job);
  } finally {
    await db.$disconnect();
  }
});
