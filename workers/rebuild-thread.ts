/**
 * A projector worker's rebuild, in a thread of its own (lib/process/thread.ts): the fold of the
 * whole log no longer runs on the live projector's event loop, which it stalled for seconds at a
 * time (command -> visible p99 18-25 s during a rebuild at 50 createUser/s; 1.6-2.5 s in a thread).
 * REBUILD_NICE can lower the thread's CPU priority (default: not lowered), and its decoding threads'
 * (workers/decode-thread.ts), which inherit it.
 * Progress, heartbeat, cancellation and the outcome go through the rebuild's row, as before.
 */
import { databaseUrl, kafkaConfig, rebuildDecodeThreads } from "@/lib/config";
import { createDb } from "@/lib/db";
import { getLogger } from "@/lib/log";
import { threadMain } from "@/lib/process/thread";
import { executeRebuild, type RebuildJob } from "@/lib/projection/rebuild/rebuild-jobs";
import { app } from "@/modules";
import { rebuildDecoder } from "./rebuild-decoder";

threadMain(async (job: RebuildJob) => {
  const db = createDb(databaseUrl());
  try {
    // The batches are decoded on threads of their own while this one folds (REBUILD_DECODE_THREADS).
    const decoder = rebuildDecoder(rebuildDecodeThreads());
    return await executeRebuild({ db, config: kafkaConfig(), app, logger: getLogger().child({ thread: "rebuild" }), decoder }, job);
  } finally {
    await db.$disconnect();
  }
});
