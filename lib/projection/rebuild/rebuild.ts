/**
 * Rebuilding the read model without downtime (server only).
 *
 * 1. catching-up: empty shadow tables (shadow-schema.ts) are filled up to the
 *    live positions at the start by the bulk path (bulk-load.ts): the log
 *    folded in memory with each module's own `project`, the rows written with
 *    COPY into tables without indexes or keys. Then a consumer of its own
 *    replays what came since through the projector's own `applyBatch`, with the
 *    transaction's search_path pointing at the shadow schema. (Without a bulk
 *    collector in every module, or without the database's URL, that consumer
 *    replays everything from offset 0.) It never passes the live projector: in
 *    each partition it applies only messages below the live position, so the
 *    two can be compared at equal offsets. The console keeps reading the live
 *    tables the whole time, and the live projector keeps projecting.
 * 2. indexing: once the bulk load has folded the log, each table gets its keys,
 *    secondary indexes and statistics as soon as its rows are written, two
 *    tables at a time, the foreign keys last (replaying batch by batch: close to
 *    the live positions, with the consumer paused); then the erasures the bulk
 *    load met are scrubbed, as the per-batch path does at each erasure.
 * 3. verifying: a REPEATABLE READ snapshot of the live tables fixes the live
 *    positions P and their checksums (row count and a 64-bit hash sum per
 *    table), without holding anyone. The replay goes exactly to P and its
 *    tables are checksummed there. If they differ, the rebuild refuses and says
 *    which tables and by how much, unless it was asked to accept differences, as
 *    after a change to the projection code.
 * 4. catching-up again: what the live projector applied after P, the replay
 *    applies with the same code to the same (verified equal) states.
 * 5. switching: the projection fence (apply-batch.ts) is taken exclusively,
 *    which waits for the live batches in flight and holds new ones back. The
 *    replay closes the last gap to exactly the live positions, and in the same
 *    transaction the tables swap schemas. The rebuilt projection_offsets already
 *    carries the live group's name at the live positions, so the live projector
 *    resumes on the new tables exactly where it stopped. The hold lasts the last
 *    few hundred messages and the swap: milliseconds, whatever the model's size.
 * 6. Then the old tables and the rebuild's consumer group are dropped.
 *
 * Whatever fails or is cancelled before the switch leaves the live read model
 * untouched; the shadow schema and the consumer group are dropped.
 */
import { randomBytes } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { Prisma } from "@/generated/prisma/client";
import type { KafkaConfig } from "@/lib/config";
import { databaseUrlOf, type Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { fetchEndOffsets } from "@/lib/kafka/offsets";
import { topicName } from "@/lib/kafka/topics";
import { READ_MODEL_CHANNEL } from "@/lib/live/live-message";
import type { Logger } from "@/lib/log";
import { lockProjectionFence } from "../apply-batch";
import type { ProjectionApp } from "../projector";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createPersonalDataKeys, type PersonalDataKeys } from "@/lib/privacy/key-store";
import { gapBetween, positionKey, storedPositions, type Positions } from "../positions";
import { canBulkLoad, scrubErasures, startBulkLoad } from "./bulk-load";
import type { StartDecoder } from "./decode-threads";
import { startShadowConsumer, type ShadowConsumer } from "./shadow-consumer";
import {
  createShadowTables,
  dropRebuildSchemas,
  finishShadowTables,
  LIVE_SCHEMA,
  REBUILD_SCHEMA,
  swapShadowTables,
  tableChecksums,
} from "./shadow-schema";

export type RebuildPhase = "catching-up" | "indexing" | "verifying" | "switching";

export interface RebuildProgress {
  phase: RebuildPhase;
  /** Messages of the log the rebuild has handled. */
  done: bigint;
  /** Messages in the log now (it grows while the rebuild runs). */
  total: bigint;
  /** Over the last few seconds. */
  eventsPerSecond: number;
  /** At the current rate, null before there is one. */
  secondsLeft: number | null;
}

export interface TableComparison {
  table: string;
  live: { rows: number; sum: string };
  rebuilt: { rows: number; sum: string };
  equal: boolean;
}

/** How long each phase took, in order (catching-up appears twice: before and after the indexes). */
export interface PhaseTiming {
  phase: RebuildPhase;
  ms: number;
}

export type RebuildOutcome =
  | {
      status: "switched";
      message: string;
      comparison: TableComparison[];
      positions: Record<string, string>;
      phases: PhaseTiming[];
      /** How long the live projector was held at the fence (the pages' view of new events paused). */
      liveHeldMs: number;
      /** Messages the bulk path folded (0: the whole replay went batch by batch). */
      bulkMessages: number;
    }
  | { status: "refused"; message: string; comparison: TableComparison[]; phases: PhaseTiming[]; bulkMessages: number }
  | { status: "cancelled"; message: string }
  | { status: "failed"; message: string };

export interface RebuildOptions {
  db: Db;
  config: KafkaConfig;
  /** The modules (modules/index.ts): their streams are replayed into their tables. */
  app: ProjectionApp;
  /** The key store of personal data (default: PostgreSQL's, wrapped by DATA_KEY_ENCRYPTION_KEY). */
  personalData?: PersonalDataKeys;
  kafka?: Kafka;
  logger: Logger;
  /** Switch even when the tables differ (say so: the differences are reported either way). */
  acceptDifferences?: boolean;
  /** Called about once a second; resolve to "cancel" to stop the rebuild before its switch. */
  onProgress?: (progress: RebuildProgress) => Promise<void | "cancel">;
  /** Within this many messages of the live positions, indexing, verifying and switching start (default 500). */
  closeEnough?: number;
  /** How long the live projector may be held while the rebuild closes the last gap (default 60 s). */
  fenceTimeoutMs?: number;
  /** Suffix of the rebuild's consumer group (default: random). */
  runId?: string;
  /**
   * Take the bulk path up to the live positions at the start (default: whenever every module
   * has a bulk collector and `db` was made by createDb, which knows its URL); false replays
   * batch by batch from offset 0.
   */
  bulk?: boolean;
  /**
   * The bulk path decodes each batch (parse, validate, reveal personal data) on the threads this
   * starts while this one folds (`decodeThreads` in lib/projection/rebuild/decode-threads.ts);
   * absent: on this thread.
   */
  decoder?: StartDecoder;
}

class Cancelled extends Error {}

/** Progress goes to the caller at most this often; the gap is checked more often. */
const REPORT_EVERY_MS = 1_000;
const POLL_MS = 200;
/** Polls (of POLL_MS / 4) without a new low of the gap before the switch goes ahead from where the replay is. */
const CLOSE_IN_PATIENCE = 8;
/** How often the switch looks whether the replay reached the held live positions (each look: one small query). */
const GAP_POLL_MS = 2;

/** Advisory-lock class of "this process runs the rebuild of this group" ("RBLR"). */
const RUN_LOCK_CLASS = 0x52424c52;

/**
 * Runs a rebuild while holding the group's rebuild lock: a transaction that
 * only takes an advisory lock and idles (no snapshot, no xid), so a process
 * that dies releases it with its connection. A second rebuild of the same read
 * model (say, started after the first one's heartbeat looked stale) is refused
 * instead of dropping the first one's shadow tables.
 */
export async function runRebuild(options: RebuildOptions): Promise<RebuildOutcome> {
  const group = options.config.PROJECTOR_GROUP_ID;
  return options.db.$transaction(
    async (lock) => {
      const [row] = await lock.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(${RUN_LOCK_CLASS}::int, hashtext(${group})) AS locked`;
      if (!row?.locked) {
        return { status: "failed", message: "Another rebuild of this read model is still running in some process; nothing was changed." } as const;
      }
      return runLocked(options);
    },
    { maxWait: 10_000, timeout: 7 * 24 * 3600_000 },
  );
}

/**
 * One run, phase by phase (the numbers of the comment at the top): replay,
 * index, verify, catch up, switch. Whatever fails or is cancelled before the
 * switch leaves the live model untouched; `finally` drops what the run made.
 */
async function runLocked(options: RebuildOptions): Promise<RebuildOutcome> {
  const run = startRun(options);
  const { log } = run;
  try {
    await run.admin.connect();
    log.info("rebuild started: creating the shadow tables");
    await deleteAbandonedGroups(run.admin, run.group, log);
    const personalData = options.personalData ?? createPersonalDataKeys(options.db, keyWrapperFromEnv());
    const url = options.bulk === false || !canBulkLoad(options.app) ? undefined : databaseUrlOf(options.db);
    await createShadowTables(options.db, options.app.readModelTables, { keysLater: url !== undefined, autovacuumLater: url !== undefined });
    if (url !== undefined) await bulkLoad(run, url, personalData);
    run.replay = await startShadowConsumer({
      db: options.db,
      kafka: run.kafka,
      group: run.group,
      rebuildGroup: run.rebuildGroup,
      topics: run.topics,
      config: options.config,
      app: options.app,
      personalData,
      log,
    });
    await run.catchUp();
    if (url === undefined) await buildIndexes(run);
    const verified = await verify(run);
    if (verified.refused) {
      run.endPhase();
      log.info({ message: verified.refused.message, phases: run.phases }, "rebuild refused");
      return { ...verified.refused, phases: run.phases, bulkMessages: run.bulkMessages };
    }
    // Equal at P. What the live projector applied since, the replay applies with the same code
    // to the same states; it follows the live positions again and closes in.
    run.replay.follow(null);
    run.replay.release();
    run.enter("catching-up");
    await run.catchUp();
    await run.closeIn();
    const result = await switchTables(run, verified);
    run.endPhase();
    log.info({ status: result.status, message: result.message, phases: run.phases }, "rebuild finished");
    return { ...result, phases: run.phases, bulkMessages: run.bulkMessages };
  } catch (error) {
    if (error instanceof Cancelled) {
      log.info("rebuild cancelled");
      return { status: "cancelled", message: "Cancelled before the switch; the live read model is unchanged." };
    }
    log.error({ err: error }, "rebuild failed");
    return { status: "failed", message: `Failed before the switch (the live read model is unchanged): ${messageOf(error)}` };
  } finally {
    await run.replay?.stop().catch(() => {});
    await dropRebuildSchemas(options.db).catch((error: unknown) => log.error({ err: error }, "could not drop the rebuild schemas"));
    await deleteGroup(run.admin, run.rebuildGroup, log);
    // The replay's partition failures belong to this run; the rebuild's row keeps how it ended.
    await options.db.$executeRaw`DELETE FROM consumer_partition_errors WHERE consumer_group = ${run.rebuildGroup}`.catch(() => {});
    await run.admin.disconnect().catch(() => {});
  }
}

type Run = ReturnType<typeof startRun>;

/** A run's clients, names and progress: what every phase shares. */
function startRun(options: RebuildOptions) {
  const { db, config } = options;
  const group = config.PROJECTOR_GROUP_ID;
  const kafka = options.kafka ?? createKafka(config, "rebuild");
  const admin = kafka.admin();
  const rebuildGroup = `${group}.rebuild.${options.runId ?? randomBytes(4).toString("hex")}`;
  const meter = createRateMeter();
  let lastReport = 0;
  let phaseStarted = Date.now();
  const closeEnough = BigInt(options.closeEnough ?? 500);
  const run = {
    options,
    db,
    group,
    kafka,
    admin,
    rebuildGroup,
    topics: options.app.streams.map((s) => topicName(s, config)),
    tables: options.app.readModelTables,
    log: options.logger.child({ component: "rebuild", group, rebuildGroup }),
    phase: "catching-up" as RebuildPhase,
    phases: [] as PhaseTiming[],
    replay: null as ShadowConsumer | null,
    /** Messages the bulk load has handled, while it runs (its positions are written at its end). */
    bulkDone: null as (() => bigint) | null,
    bulkMessages: 0,
    enter(next: RebuildPhase) {
      run.endPhase();
      run.phase = next;
      phaseStarted = Date.now();
    },
    endPhase() {
      run.phases.push({ phase: run.phase, ms: Date.now() - phaseStarted });
    },
    /** Progress to the caller, and a cancel from it; also the liveness of the replay. */
    async report(force = false): Promise<void> {
      if (!force && Date.now() - lastReport < REPORT_EVERY_MS) return;
      lastReport = Date.now();
      const [ends, rebuilt] = await Promise.all([fetchEndOffsets(admin, run.topics), storedPositions(db, group, REBUILD_SCHEMA)]);
      let total = 0n;
      let done = 0n;
      for (const e of ends) {
        total += e.high - e.low;
        const at = rebuilt.get(positionKey(e.topic, e.partition)) ?? e.low;
        done += at > e.low ? at - e.low : 0n;
      }
      if (run.bulkDone) done = run.bulkDone();
      const eventsPerSecond = meter.add(done);
      const secondsLeft = eventsPerSecond > 0 ? Number(total - done) / eventsPerSecond : null;
      const answer = await options.onProgress?.({ phase: run.phase, done, total, eventsPerSecond, secondsLeft });
      if (answer === "cancel") throw new Cancelled();
      if (run.replay?.failure) throw run.replay.failure;
    },
    /** Messages between the replay's stored positions and the live projector's. */
    async gap(): Promise<bigint> {
      return gapBetween(await storedPositions(db, group, LIVE_SCHEMA), await storedPositions(db, group, REBUILD_SCHEMA));
    },
    /** Polls (reporting progress) until the rebuild is within `closeEnough` messages of the live positions. */
    async catchUp(): Promise<void> {
      for (;;) {
        await run.report();
        const gap = await run.gap();
        if (gap <= closeEnough) return;
        await sleep(POLL_MS);
      }
    },
    /**
     * Before the switch: as close to the live positions as the replay gets, so that the live
     * projector is held for as few messages as possible. Returns at no gap; or, once the gap has
     * not reached a new low for CLOSE_IN_PATIENCE polls (commands arrive about as fast as the
     * replay follows them), at the next poll that finds it back at its low, or after four times as
     * many polls whatever it is.
     */
    async closeIn(): Promise<void> {
      let best: bigint | null = null;
      let stale = 0;
      for (;;) {
        await run.report();
        const gap = await run.gap();
        if (gap === 0n) return;
        if (best === null || gap < best) {
          best = gap;
          stale = 0;
        } else if (++stale >= CLOSE_IN_PATIENCE && (gap === best || stale >= 4 * CLOSE_IN_PATIENCE)) return;
        await sleep(POLL_MS / 4);
      }
    },
    /** Polls `done` (reporting progress meanwhile) until it holds. */
    async waitUntil(done: () => Promise<boolean>): Promise<void> {
      while (!(await done())) {
        await run.report();
        await sleep(POLL_MS / 4);
      }
    },
  };
  return run;
}

/**
 * 1–2 on the bulk path: fold the log up to the live positions of now into the empty shadow
 * tables (COPY), build the keys, indexes and foreign keys, scrub the erasures met.
 */
async function bulkLoad(run: Run, url: string, personalData: PersonalDataKeys): Promise<void> {
  const until = await storedPositions(run.db, run.group, LIVE_SCHEMA);
  run.log.info({ messages: String(gapBetween(until, new Map())) }, "bulk load up to the live positions");
  const loader = startBulkLoad({
    db: run.db,
    databaseUrl: url,
    kafka: run.kafka,
    group: run.group,
    rebuildGroup: run.rebuildGroup,
    topics: run.topics,
    config: run.options.config,
    app: run.options.app,
    personalData,
    until,
    log: run.log,
    decoder: run.options.decoder,
  });
  run.bulkDone = () => loader.done;
  let erasures;
  try {
    let settled = false;
    void loader.result.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      if (loader.folded && run.phase === "catching-up") run.enter("indexing");
      await run.report();
      await sleep(POLL_MS);
    }
    const loaded = await loader.result;
    erasures = loaded.erasures;
    run.bulkMessages = Number(loaded.messages);
  } catch (error) {
    await loader.stop();
    throw error;
  } finally {
    run.bulkDone = null;
  }
  // The loader built the keys, indexes and foreign keys as it wrote the tables (its last step,
  // reported as "indexing"); the erasures it met are scrubbed on the indexed tables.
  if (run.phase === "catching-up") run.enter("indexing");
  await run.report(true);
  await scrubErasures(run.db, run.options.app, erasures);
  run.enter("catching-up");
}

/** 2. Close to the live positions: pause the replay and build the secondary indexes and foreign keys in one go. */
async function buildIndexes(run: Run): Promise<void> {
  run.enter("indexing");
  await run.report(true);
  run.log.info("close to the live positions: building indexes");
  await run.replay!.hold();
  await finishShadowTables(run.db, run.tables);
  run.replay!.release();
  run.enter("catching-up");
  await run.catchUp();
}

interface Verified {
  /** The live positions P the tables were compared at. */
  at: Positions;
  comparison: TableComparison[];
  differing: TableComparison[];
  refused?: { status: "refused"; message: string; comparison: TableComparison[] };
}

/**
 * 3. Verify at equal offsets without holding anyone: a snapshot of the live model fixes the
 * positions P and its checksums; the replay goes exactly to P and is checksummed there.
 */
async function verify(run: Run): Promise<Verified> {
  const { db, group, tables } = run;
  const replay = run.replay!;
  run.enter("verifying");
  await run.report(true);
  await replay.hold(); // its commits so far all lie at or below the positions the snapshot reads
  let snapshotAt: (positions: Positions) => void = () => {};
  const fixed = new Promise<Positions>((resolve) => (snapshotAt = resolve));
  const liveSums = db.$transaction(
    async (tx) => {
      const at = await storedPositions(tx, group, LIVE_SCHEMA);
      replay.follow(at);
      replay.release();
      snapshotAt(at);
      return tableChecksums(tx, LIVE_SCHEMA, group, tables);
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, maxWait: 10_000, timeout: 30 * 60_000 },
  );
  // The snapshot's transaction failing before it fixed P must not leave this waiting for P.
  const at = await Promise.race([fixed, liveSums.then(() => fixed)]);
  // The live checksums run in the snapshot while the replay closes to P; then the rebuilt ones beside them.
  const rebuiltSums = (async () => {
    await run.waitUntil(async () => gapBetween(at, await storedPositions(db, group, REBUILD_SCHEMA)) === 0n);
    await replay.hold();
    const ahead = gapBetween(await storedPositions(db, group, REBUILD_SCHEMA), at);
    if (ahead > 0n) throw new Error(`the rebuild passed the compared positions by ${ahead} messages (a bug: it must stop at them)`);
    return tableChecksums(db, REBUILD_SCHEMA, group, tables);
  })();
  const [liveChecksums, rebuiltChecksums] = await Promise.all([liveSums, rebuiltSums]);
  const comparison = compare(liveChecksums, rebuiltChecksums);
  const differing = comparison.filter((c) => !c.equal);
  if (differing.length && !run.options.acceptDifferences) {
    const refused = { status: "refused", message: `Not switched: ${describeDifferences(differing)}.`, comparison } as const;
    return { at, comparison, differing, refused };
  }
  return { at, comparison, differing };
}

/** 5. The switch: hold the live projector at its fence, close the last gap, swap. */
async function switchTables(run: Run, verified: Verified) {
  const { db, group } = run;
  const { comparison, differing } = verified;
  run.enter("switching");
  await run.report(true);
  const fenceTimeoutMs = run.options.fenceTimeoutMs ?? 60_000;
  return db.$transaction(
    async (tx) => {
      await lockProjectionFence(tx, group);
      const heldSince = Date.now();
      // The live projector is held from here: its positions are final for this transaction.
      const live = await storedPositions(tx, group, LIVE_SCHEMA);
      // Final while the fence is held: the replay runs up to them without waiting for the live projector.
      run.replay!.follow(live);
      const deadline = Date.now() + fenceTimeoutMs;
      for (;;) {
        const gap = gapBetween(live, await storedPositions(tx, group, REBUILD_SCHEMA));
        if (gap === 0n) break;
        if (Date.now() > deadline) {
          throw new Error(`the rebuild did not reach the live positions within ${fenceTimeoutMs / 1000} s (${gap} messages short)`);
        }
        await run.report();
        await sleep(GAP_POLL_MS);
      }
      // Paused, not disconnected: leaving the group takes a while, and the live projector is held.
      await run.replay!.hold();
      await swapShadowTables(tx, group, run.tables);
      // Open pages refetch everything (lib/live maps this to a resync).
      await tx.$executeRaw`SELECT pg_notify(${READ_MODEL_CHANNEL}, '{"switched":true}')`;
      const liveHeldMs = Date.now() - heldSince;
      const positions = Object.fromEntries([...live].map(([k, v]) => [k, String(v)]));
      const rows = comparison.reduce((n, c) => n + c.rebuilt.rows, 0);
      const since = gapBetween(live, verified.at);
      const message =
        (differing.length
          ? `Switched with differences (accepted): ${describeDifferences(differing)}.`
          : `Switched: ${rows.toLocaleString("en-US")} rows in ${comparison.length} tables, equal to the live model at ${sumPositions(verified.at)} messages.`) +
        (since > 0n ? ` ${since.toLocaleString("en-US")} later messages applied before the switch.` : "") +
        // Measured up to the swap; the commit that releases the fence follows it.
        ` New events waited ${liveHeldMs.toLocaleString("en-US")} ms for the swap.`;
      return { status: "switched", message, comparison, positions, liveHeldMs } as const;
    },
    { maxWait: 10_000, timeout: fenceTimeoutMs + 60_000 },
  );
}

function compare(
  live: Array<{ table: string; rows: number; sum: string }>,
  rebuilt: Array<{ table: string; rows: number; sum: string }>,
): TableComparison[] {
  return live.map((l) => {
    const r = rebuilt.find((x) => x.table === l.table)!;
    return {
      table: l.table,
      live: { rows: l.rows, sum: l.sum },
      rebuilt: { rows: r.rows, sum: r.sum },
      equal: l.rows === r.rows && l.sum === r.sum,
    };
  });
}

/** "users differs (live 1,204 rows, rebuilt 1,204 rows: same count, other content)". */
export function describeDifferences(differing: readonly TableComparison[]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return differing
    .map(
      (d) =>
        `${d.table} differs (live ${n(d.live.rows)} rows, rebuilt ${n(d.rebuilt.rows)} rows` +
        (d.live.rows === d.rebuilt.rows ? ": same count, other content)" : ")"),
    )
    .join("; ");
}

const sumPositions = (p: Positions) => [...p.values()].reduce((a, b) => a + b, 0n).toLocaleString("en-US");

/** Events per second over a sliding window of about five samples. */
export function createRateMeter(windowSize = 5, now: () => number = Date.now) {
  const samples: Array<{ at: number; done: bigint }> = [];
  return {
    add(done: bigint): number {
      samples.push({ at: now(), done });
      if (samples.length > windowSize) samples.shift();
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const seconds = (last.at - first.at) / 1000;
      return seconds > 0 ? Number(last.done - first.done) / seconds : 0;
    },
  };
}

/** Consumer groups of earlier rebuilds whose runner died before deleting them (the rebuild lock: none is live). */
async function deleteAbandonedGroups(admin: Admin, group: string, log: Logger) {
  const { groups } = await admin.listGroups();
  for (const g of groups.filter((g) => g.groupId.startsWith(`${group}.rebuild.`))) await deleteGroup(admin, g.groupId, log);
}

async function deleteGroup(admin: Admin, groupId: string, log: Logger) {
  try {
    await admin.deleteGroups([groupId]);
  } catch (error) {
    // A group that never committed an offset may not exist at all: nothing to delete.
    log.debug({ err: error, groupId }, "rebuild consumer group not deleted");
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
