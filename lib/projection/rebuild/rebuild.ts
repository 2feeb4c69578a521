/**
 * Rebuilding the read model without downtime (server only).
 *
 * 1. catching-up: empty shadow tables (shadow-schema.ts) are filled by a
 *    consumer of its own that replays both topics from offset 0 through the
 *    projector's own `applyBatch`, with the transaction's search_path pointing
 *    at the shadow schema. It never passes the live projector: in each
 *    partition it applies only messages below the live position, so the two
 *    can be compared at equal offsets. The console keeps reading the live
 *    tables the whole time, and the live projector keeps projecting.
 * 2. indexing: close to the live positions, the consumer pauses and the
 *    secondary indexes and foreign keys are built in one go, then it resumes.
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
import type { Admin, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import type { KafkaConfig } from "@/lib/config";
import { partitionErrors } from "@/lib/consumers/partition-errors";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { fetchEndOffsets } from "@/lib/kafka/offsets";
import { STREAMS, streamOfTopic, topicName } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { applyBatch, lockProjectionFence } from "../apply-batch";
import { lazyAdmin, partitionCounts, PROJECTION_CONSUMER, PROJECTOR_CONCURRENCY } from "../projector";
import { gapBetween, positionKey, seekToPositions, storedPositions, type Positions } from "../positions";
import {
  createShadowTables,
  dropRebuildSchemas,
  finishShadowTables,
  LIVE_SCHEMA,
  REBUILD_SCHEMA,
  swapShadowTables,
  tableChecksums,
  type ReadModelTable,
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
  table: ReadModelTable;
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
    }
  | { status: "refused"; message: string; comparison: TableComparison[]; phases: PhaseTiming[] }
  | { status: "cancelled"; message: string }
  | { status: "failed"; message: string };

export interface RebuildOptions {
  db: Db;
  config: KafkaConfig;
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
}

class Cancelled extends Error {}

/** Progress goes to the caller at most this often; the gap is checked more often. */
const REPORT_EVERY_MS = 1_000;
const POLL_MS = 200;

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

async function runLocked(options: RebuildOptions): Promise<RebuildOutcome> {
  const { db, config, logger } = options;
  const group = config.PROJECTOR_GROUP_ID;
  const topics = STREAMS.map((s) => topicName(s, config));
  const kafka = options.kafka ?? createKafka(config, "rebuild");
  const admin = kafka.admin();
  const rebuildGroup = `${group}.rebuild.${options.runId ?? randomBytes(4).toString("hex")}`;
  const log = logger.child({ component: "rebuild", group, rebuildGroup });
  const meter = createRateMeter();
  let phase: RebuildPhase = "catching-up";
  let replay: ShadowConsumer | null = null;
  const started = Date.now();
  let phaseStarted = started;
  let lastReport = 0;
  const phases: PhaseTiming[] = [];
  const enter = (next: RebuildPhase) => {
    phases.push({ phase, ms: Date.now() - phaseStarted });
    phase = next;
    phaseStarted = Date.now();
  };

  /** Progress to the caller, and a cancel from it; also the liveness of the replay. */
  async function report(force = false): Promise<void> {
    if (!force && Date.now() - lastReport < REPORT_EVERY_MS) return;
    lastReport = Date.now();
    const [ends, rebuilt] = await Promise.all([fetchEndOffsets(admin, topics), storedPositions(db, group, REBUILD_SCHEMA)]);
    let total = 0n;
    let done = 0n;
    for (const e of ends) {
      total += e.high - e.low;
      const at = rebuilt.get(positionKey(e.topic, e.partition)) ?? e.low;
      done += at > e.low ? at - e.low : 0n;
    }
    const eventsPerSecond = meter.add(done);
    const secondsLeft = eventsPerSecond > 0 ? Number(total - done) / eventsPerSecond : null;
    if ((await options.onProgress?.({ phase, done, total, eventsPerSecond, secondsLeft })) === "cancel") throw new Cancelled();
    if (replay?.failure) throw replay.failure;
  }

  /** Polls (reporting progress) until the rebuild is within `gapAllowed` messages of the live positions. */
  async function catchUp(gapAllowed: bigint): Promise<void> {
    for (;;) {
      await report();
      const gap = gapBetween(await storedPositions(db, group, LIVE_SCHEMA), await storedPositions(db, group, REBUILD_SCHEMA));
      if (gap <= gapAllowed) return;
      await sleep(POLL_MS);
    }
  }

  /** Polls `done` (reporting progress meanwhile) until it holds. */
  async function waitUntil(done: () => Promise<boolean>): Promise<void> {
    while (!(await done())) {
      await report();
      await sleep(POLL_MS / 4);
    }
  }

  try {
    await admin.connect();
    log.info("rebuild started: creating the shadow tables");
    await deleteAbandonedGroups(admin, group, log);
    await createShadowTables(db);
    replay = await startShadowConsumer({ db, kafka, group, rebuildGroup, topics, config, log });
    const closeEnough = BigInt(options.closeEnough ?? 500);
    await catchUp(closeEnough);

    enter("indexing");
    await report(true);
    log.info("close to the live positions: building indexes");
    await replay.hold();
    await finishShadowTables(db);
    replay.release();
    enter("catching-up");
    await catchUp(closeEnough);

    // Verify at equal offsets without holding anyone: a snapshot of the live model fixes the
    // positions P and its checksums; the replay goes exactly to P and is checksummed there.
    enter("verifying");
    await report(true);
    await replay.hold(); // its commits so far all lie at or below the positions the snapshot reads
    let snapshotAt: (positions: Positions) => void = () => {};
    const fixed = new Promise<Positions>((resolve) => (snapshotAt = resolve));
    const liveSums = db.$transaction(
      async (tx) => {
        const at = await storedPositions(tx, group, LIVE_SCHEMA);
        replay!.follow(at);
        replay!.release();
        snapshotAt(at);
        return tableChecksums(tx, LIVE_SCHEMA, group);
      },
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, maxWait: 10_000, timeout: 30 * 60_000 },
    );
    // The snapshot's transaction failing before it fixed P must not leave this waiting for P.
    const at = await Promise.race([fixed, liveSums.then(() => fixed)]);
    const verified = { at };
    // The live checksums run in the snapshot while the replay closes to P; then the rebuilt ones beside them.
    const rebuiltSums = (async () => {
      await waitUntil(async () => gapBetween(at, await storedPositions(db, group, REBUILD_SCHEMA)) === 0n);
      await replay!.hold();
      const ahead = gapBetween(await storedPositions(db, group, REBUILD_SCHEMA), at);
      if (ahead > 0n) throw new Error(`the rebuild passed the compared positions by ${ahead} messages (a bug: it must stop at them)`);
      return tableChecksums(db, REBUILD_SCHEMA, group);
    })();
    const [liveChecksums, rebuiltChecksums] = await Promise.all([liveSums, rebuiltSums]);
    const comparison = compare(liveChecksums, rebuiltChecksums);
    const differing = comparison.filter((c) => !c.equal);
    if (differing.length && !options.acceptDifferences) {
      const refused = { status: "refused", message: `Not switched: ${describeDifferences(differing)}.`, comparison } as const;
      phases.push({ phase, ms: Date.now() - phaseStarted });
      log.info({ message: refused.message, phases }, "rebuild refused");
      return { ...refused, phases };
    }

    // Equal at P. What the live projector applied since, the replay applies with the same code
    // to the same states; it follows the live positions again and closes in.
    replay.follow(null);
    replay.release();
    enter("catching-up");
    await catchUp(closeEnough);

    // The switch: hold the live projector at its fence, close the last gap, swap.
    enter("switching");
    await report(true);
    const fenceTimeoutMs = options.fenceTimeoutMs ?? 60_000;
    const result = await db.$transaction(
      async (tx) => {
        await lockProjectionFence(tx, group);
        const heldSince = Date.now();
        // The live projector is held from here: its positions are final for this transaction.
        const live = await storedPositions(tx, group, LIVE_SCHEMA);
        const deadline = Date.now() + fenceTimeoutMs;
        for (;;) {
          const gap = gapBetween(live, await storedPositions(tx, group, REBUILD_SCHEMA));
          if (gap === 0n) break;
          if (Date.now() > deadline) {
            throw new Error(`the rebuild did not reach the live positions within ${fenceTimeoutMs / 1000} s (${gap} messages short)`);
          }
          await report();
          await sleep(20);
        }
        // Paused, not disconnected: leaving the group takes a while, and the live projector is held.
        await replay!.hold();
        await swapShadowTables(tx, group);
        // Open pages refetch everything (lib/live maps this to a resync).
        await tx.$executeRaw`SELECT pg_notify('read_model', '{"switched":true}')`;
        const positions = Object.fromEntries([...live].map(([k, v]) => [k, String(v)]));
        const rows = comparison.reduce((n, c) => n + c.rebuilt.rows, 0);
        const since = gapBetween(live, verified.at);
        const message =
          (differing.length
            ? `Switched with differences (accepted): ${describeDifferences(differing)}.`
            : `Switched: ${rows.toLocaleString("en-US")} rows in ${comparison.length} tables, equal to the live model at ${sumPositions(verified.at)} messages.`) +
          (since > 0n ? ` ${since.toLocaleString("en-US")} later messages applied before the switch.` : "");
        return { status: "switched", message, comparison, positions, liveHeldMs: Date.now() - heldSince } as const;
      },
      { maxWait: 10_000, timeout: fenceTimeoutMs + 60_000 },
    );
    phases.push({ phase, ms: Date.now() - phaseStarted });
    log.info({ status: result.status, message: result.message, phases }, "rebuild finished");
    return { ...result, phases };
  } catch (error) {
    if (error instanceof Cancelled) {
      log.info("rebuild cancelled");
      return { status: "cancelled", message: "Cancelled before the switch; the live read model is unchanged." };
    }
    log.error({ err: error }, "rebuild failed");
    return { status: "failed", message: `Failed before the switch (the live read model is unchanged): ${messageOf(error)}` };
  } finally {
    await replay?.stop().catch(() => {});
    await dropRebuildSchemas(db).catch((error: unknown) => log.error({ err: error }, "could not drop the rebuild schemas"));
    await deleteGroup(admin, rebuildGroup, log);
    // The replay's partition failures belong to this run; the rebuild's row keeps how it ended.
    await db.$executeRaw`DELETE FROM consumer_partition_errors WHERE consumer_group = ${rebuildGroup}`.catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

interface ShadowConsumer {
  /** Pauses every partition and waits for the batch in flight. */
  hold(): Promise<void>;
  release(): void;
  /** Stop at these positions instead of the live projector's (null: follow the live projector again). */
  follow(positions: Positions | null): void;
  stop(): Promise<void>;
  /** Set when the consumer crashed for good. */
  failure: Error | null;
}

/**
 * The replaying consumer: a consumer group of its own, positions in the shadow
 * projection_offsets (under the live group's name, ready for the switch), each
 * batch cut at the live position of its partition (or at the position `follow`
 * fixed while verifying).
 */
async function startShadowConsumer(deps: {
  db: Db;
  kafka: Kafka;
  group: string;
  rebuildGroup: string;
  topics: string[];
  config: KafkaConfig;
  log: Logger;
}): Promise<ShadowConsumer> {
  const { db, kafka, group, topics, config, log } = deps;
  const consumer: Consumer = kafka.consumer({
    groupId: deps.rebuildGroup,
    ...PROJECTION_CONSUMER,
    // A replay reads far more than it waits: larger fetches, fewer and bigger transactions.
    maxBytesPerPartition: 4 * 1024 * 1024,
    // Stopping waits for the fetch in flight: a short long-poll (default 5 s) keeps the end of a
    // rebuild quick. Busy fetches return at once anyway.
    maxWaitTimeInMs: 100,
  });
  const admin = lazyAdmin(kafka);
  const partitionsOf = partitionCounts(admin.get);
  const failures = partitionErrors(db, deps.rebuildGroup, log);
  let held = false;
  let inFlight = 0;
  let target: Positions | null = null;
  let stopped: Promise<void> | null = null;
  const state: ShadowConsumer = {
    failure: null,
    async hold() {
      held = true;
      consumer.pause(topics.map((topic) => ({ topic })));
      while (inFlight > 0) await sleep(20);
    },
    release() {
      held = false;
      consumer.resume(topics.map((topic) => ({ topic })));
    },
    follow(positions) {
      target = positions;
    },
    stop() {
      stopped ??= consumer.disconnect().finally(() => admin.close());
      return stopped;
    },
  };

  /** Waits a moment before fetching again from `offset` (the live projector's position, not yet passed). */
  function waitForLive(topic: string, partition: number, offset: string) {
    consumer.seek({ topic, partition, offset });
    consumer.pause([{ topic, partitions: [partition] }]);
    setTimeout(() => {
      if (!held && !stopped) consumer.resume([{ topic, partitions: [partition] }]);
    }, 250).unref();
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    if (held) {
      // Fetched just before the pause: fetch it again after the release.
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.messages[0]!.offset });
      return;
    }
    inFlight += 1;
    try {
      const { topic, partition } = batch;
      const partitions = await partitionsOf(topic);
      const fetchedOffset = (batch as { fetchedOffset?: string }).fetchedOffset;
      let done: { waitAt: string | null; gapFrom?: string };
      try {
        done = await db.$transaction(
          async (tx) => {
            // Unqualified names in applyBatch now mean the shadow tables; the live position is read by its full name.
            await tx.$executeRaw`SELECT set_config('search_path', ${REBUILD_SCHEMA}, true)`;
            const limit = target ? (target.get(positionKey(topic, partition)) ?? 0n) : await livePosition(tx, group, topic, partition);
            const messages = batch.messages.filter((m) => BigInt(m.offset) < limit);
            if (messages.length) {
              const outcome = await applyBatch(tx, {
                group,
                topic,
                partition,
                stream: streamOfTopic(topic, config),
                partitions,
                fetchedOffset,
                messages,
                rebuild: true,
              });
              if (outcome.gapFrom !== undefined) return { waitAt: null, gapFrom: outcome.gapFrom };
            }
            return { waitAt: batch.messages.find((m) => BigInt(m.offset) >= limit)?.offset ?? null };
          },
          { maxWait: 10_000, timeout: 120_000 },
        );
      } catch (error) {
        // Shown on the health page's rebuild card beside the replay's partition; kafkajs retries the batch.
        log.error({ err: error, topic, partition, offset: batch.messages[0]?.offset }, "rebuild: batch failed; retrying");
        await failures.failed(topic, partition, batch.messages[0]?.offset ?? null, error);
        throw error;
      }
      if (done.gapFrom !== undefined) consumer.seek({ topic, partition, offset: done.gapFrom });
      else if (done.waitAt === null) resolveOffset(batch.messages.at(-1)!.offset);
      else waitForLive(topic, partition, done.waitAt);
      await failures.progressed(topic, partition);
      await heartbeat();
    } finally {
      inFlight -= 1;
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    storedPositions(db, group, REBUILD_SCHEMA)
      .then((positions) => seekToPositions(consumer, payload.memberAssignment, positions))
      .catch((error: unknown) => log.error({ err: error }, "rebuild: could not seek to stored offsets"));
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: payload.error, restart: payload.restart }, "rebuild consumer crashed");
    if (!payload.restart) state.failure = payload.error;
  });
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: PROJECTOR_CONCURRENCY, eachBatch });
  return state;
}

async function livePosition(tx: Tx, group: string, topic: string, partition: number): Promise<bigint> {
  const [live] = await tx.$queryRaw<{ next_offset: bigint }[]>`
    SELECT next_offset FROM public.projection_offsets
    WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ${partition}`;
  return live?.next_offset ?? 0n;
}

function compare(
  live: Array<{ table: ReadModelTable; rows: number; sum: string }>,
  rebuilt: Array<{ table: ReadModelTable; rows: number; sum: string }>,
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
