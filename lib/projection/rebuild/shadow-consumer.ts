/**
 * A rebuild's replay (./rebuild.ts): a consumer group of its own feeding the
 * projector's own applyBatch into the shadow tables, never past the live
 * projector's positions (or the positions a verification fixed).
 */
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { inSqlTransaction, sqlPoolOf, type SqlTx } from "@/lib/sql-tx";
import type { KafkaConfig } from "@/lib/config";
import type { PersonalDataKeys } from "@/lib/privacy/key-store";
import { partitionErrors } from "@/lib/consumers/partition-errors";
import type { Db } from "@/lib/db";
import { streamOfTopic } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { applyBatch } from "../apply-batch";
import { partitionCounts } from "@/lib/kafka/partition-counts";
import { lazyAdmin, PROJECTION_CONSUMER, PROJECTOR_CONCURRENCY, type ProjectionApp } from "../projector";
import { fetchedOffsetOf, positionKey, seekToPositions, storedPositions, type Positions } from "../positions";
import { REBUILD_SCHEMA } from "./shadow-schema";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a partition that reached the live projector's position waits before it fetches again: first, and at most. */
const LIVE_WAIT_FIRST_MS = 20;
const LIVE_WAIT_MAX_MS = 320;
/** How often `hold` looks whether the batch in flight is done (the switch may be waiting on it). */
const HELD_POLL_MS = 2;

export interface ShadowConsumer {
  /** Pauses every partition and waits for the batch in flight. */
  hold(): Promise<void>;
  release(): void;
  /**
   * Stop at these positions instead of the live projector's (null: follow the live projector again).
   * A partition waiting for the live projector to move on fetches again at once.
   */
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
/** What a rebuild's readers of the log (this consumer, and the bulk load) are given. */
export interface RebuildReaderDeps {
  db: Db;
  kafka: Kafka;
  /** The live consumer group: its name goes into the shadow projection_offsets. */
  group: string;
  rebuildGroup: string;
  topics: string[];
  config: KafkaConfig;
  app: ProjectionApp;
  personalData: PersonalDataKeys;
  log: Logger;
}

export async function startShadowConsumer(deps: RebuildReaderDeps): Promise<ShadowConsumer> {
  const { db, kafka, group, topics, config, app, personalData, log } = deps;
  const consumer: Consumer = kafka.consumer({
    groupId: deps.rebuildGroup,
    ...PROJECTION_CONSUMER,
    // Stopping waits for the fetch in flight, and so does a partition resumed at the switch (it joins
    // the next fetch): a short long-poll (default 5 s) keeps both quick, with the live projector held
    // for the second. Busy fetches return at once anyway.
    maxWaitTimeInMs: 20,
  });
  const admin = lazyAdmin(kafka);
  const partitionsOf = partitionCounts(admin.get);
  const failures = partitionErrors(db, deps.rebuildGroup, log);
  // Its batches' connections, as the live projector's (lib/sql-tx.ts).
  const batchPool = sqlPoolOf(db, { max: PROJECTOR_CONCURRENCY, connectionTimeoutMs: 10_000 });
  let held = false;
  let inFlight = 0;
  /**
   * Partitions that reached the live projector's position: the offset they wait at, how long they
   * last waited, and the timer that resumes them (undefined once it fired).
   */
  const waiting = new Map<string, { topic: string; partition: number; offset: string; wait: number; timer: NodeJS.Timeout | undefined }>();
  const resumeWaiting = () => {
    for (const w of waiting.values()) {
      if (w.timer === undefined) continue;
      clearTimeout(w.timer);
      w.timer = undefined;
      consumer.resume([{ topic: w.topic, partitions: [w.partition] }]);
    }
  };
  let target: Positions | null = null;
  let stopped: Promise<void> | null = null;
  const state: ShadowConsumer = {
    failure: null,
    async hold() {
      held = true;
      for (const w of waiting.values()) clearTimeout(w.timer);
      waiting.clear();
      consumer.pause(topics.map((topic) => ({ topic })));
      while (inFlight > 0) await sleep(HELD_POLL_MS);
    },
    release() {
      held = false;
      consumer.resume(topics.map((topic) => ({ topic })));
    },
    follow(positions) {
      target = positions;
      // Fixed positions (a verification's, or the switch's with the live projector held) need no
      // wait for the live projector: the partitions paused for it fetch again now. At the switch
      // that wait (up to LIVE_WAIT_MAX_MS) would be spent with the live projector held.
      if (positions && !held && !stopped) resumeWaiting();
    },
    stop() {
      stopped ??= consumer
        .disconnect()
        .finally(() => admin.close())
        .finally(() => batchPool.end());
      return stopped;
    },
  };

  /**
   * Waits a moment before fetching again from `offset` (the live projector's position, not yet
   * passed). Usually the live projector is a batch behind the replay on a message just produced,
   * so the first wait is short; it doubles, up to LIVE_WAIT_MAX_MS, while the live projector stays
   * at that offset (stopped, or slow), so a replay never polls a stalled projector hard. How far
   * the replay trails the live projector is what the switch closes with the live projector held.
   */
  function waitForLive(topic: string, partition: number, offset: string) {
    consumer.seek({ topic, partition, offset });
    consumer.pause([{ topic, partitions: [partition] }]);
    const key = positionKey(topic, partition);
    const previous = waiting.get(key);
    clearTimeout(previous?.timer);
    const wait = previous?.offset === offset ? Math.min(previous.wait * 2, LIVE_WAIT_MAX_MS) : LIVE_WAIT_FIRST_MS;
    const timer = setTimeout(() => {
      // Kept with its offset and wait: should the partition stop at the same offset again, it waits twice as long.
      waiting.set(key, { topic, partition, offset, wait, timer: undefined });
      if (!held && !stopped) consumer.resume([{ topic, partitions: [partition] }]);
    }, wait);
    timer.unref();
    waiting.set(key, { topic, partition, offset, wait, timer });
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
      const fetchedOffset = fetchedOffsetOf(batch);
      let done: { waitAt: string | null; gapFrom?: string };
      try {
        done = await inSqlTransaction(batchPool, async (tx) => {
          // Unqualified names in applyBatch now mean the shadow tables; the live position is read by its full name.
          await tx.$executeRaw`SELECT set_config('search_path', ${REBUILD_SCHEMA}, true)`;
          const limit = target ? (target.get(positionKey(topic, partition)) ?? 0n) : await livePosition(tx, group, topic, partition);
          const messages = batch.messages.filter((m) => BigInt(m.offset) < limit);
          if (messages.length) {
            const outcome = await applyBatch(tx, {
              group,
              topic,
              partition,
              stream: streamOfTopic(topic, config, app.streams),
              app,
              personalData,
              partitions,
              fetchedOffset,
              messages,
              rebuild: true,
            });
            if (outcome.gapFrom !== undefined) return { waitAt: null, gapFrom: outcome.gapFrom };
          }
          return { waitAt: batch.messages.find((m) => BigInt(m.offset) >= limit)?.offset ?? null };
        });
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

async function livePosition(tx: SqlTx, group: string, topic: string, partition: number): Promise<bigint> {
  const [live] = await tx.$queryRaw<{ next_offset: bigint }[]>`
    SELECT next_offset FROM public.projection_offsets
    WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ${partition}`;
  return live?.next_offset ?? 0n;
}
