/**
 * "Replay from": queues again, for one subscription, every event it selects
 * from a time (or the beginning of the log) up to the end of the log when the
 * replay starts, with the events' own ids; the senders then deliver them like
 * any other, each aggregate's in log order.
 *
 * A replay reads with a consumer group of its own (`<group>.replay.<id>`),
 * whose offsets are set before it joins (Kafka's offsets for the time, or the
 * log's start) and which is deleted when done: one short-lived group per
 * replay, never one per subscription. The console only records the request
 * (webhook_replays); a webhooks worker claims it within 2 s. A replay that
 * dies is taken over by another worker once its heartbeat is 60 s old, and
 * starts over (rows already queued are not queued twice).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, EachBatchPayload, Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { streamOfTopic, topicName } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { positionKey } from "@/lib/projection/positions";
import { PROJECTION_CONSUMER } from "@/lib/projection/projector";
import { queueRows } from "./queue-rows";

export interface ReplayRunnerOptions {
  db: Db;
  kafka: Kafka;
  kafkaConfig: KafkaConfig;
  group: string;
  streams: readonly string[];
  logger: Logger;
  pollMs?: number;
}

export const replayGroup = (group: string, replayId: bigint) => `${group}.replay.${replayId}`;

const STALE_AFTER = "60 seconds";

interface Claimed {
  id: bigint;
  subscription_id: string;
  from_time: Date | null;
}

export function createReplayRunner(options: ReplayRunnerOptions) {
  const { db, kafka, kafkaConfig, group, logger } = options;
  const log = logger.child({ component: "webhook-replay" });
  const topics = options.streams.map((s) => topicName(s, kafkaConfig));
  const stopSignal = new AbortController();
  let loop: Promise<void> | null = null;
  let current: { stop(): Promise<void> } | null = null;

  async function claim(): Promise<Claimed | null> {
    const [row] = await db.$queryRaw<Claimed[]>`
      UPDATE webhook_replays SET status = 'running', started_at = now(), heartbeat_at = now(), queued = 0
      WHERE id = (
        SELECT id FROM webhook_replays
        WHERE status = 'requested' OR (status = 'running' AND heartbeat_at < now() - ${STALE_AFTER}::interval)
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id, subscription_id::text, from_time`;
    return row ?? null;
  }

  /** Where each partition starts and ends for this replay: only partitions with something to read. */
  async function range(admin: Admin, from: Date | null) {
    const ranges: { topic: string; partition: number; start: bigint; end: bigint }[] = [];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const starts = from ? await admin.fetchTopicOffsetsByTimestamp(topic, from.getTime()) : ends.map((e) => ({ partition: e.partition, offset: e.low }));
      for (const e of ends) {
        const s = starts.find((x) => x.partition === e.partition);
        // -1: no message at or after the time.
        const start = s && BigInt(s.offset) >= 0n ? BigInt(s.offset) : BigInt(e.high);
        if (start < BigInt(e.high)) ranges.push({ topic, partition: e.partition, start, end: BigInt(e.high) });
      }
    }
    return ranges;
  }

  async function runReplay(replay: Claimed) {
    const admin = kafka.admin();
    await admin.connect();
    const groupId = replayGroup(group, replay.id);
    try {
      const ranges = await range(admin, replay.from_time);
      log.info({ replayId: String(replay.id), subscriptionId: replay.subscription_id, partitions: ranges.length }, "replay started");
      if (ranges.length > 0) {
        for (const topic of new Set(ranges.map((r) => r.topic))) {
          await admin.setOffsets({
            groupId,
            topic,
            partitions: ranges.filter((r) => r.topic === topic).map((r) => ({ partition: r.partition, offset: String(r.start) })),
          });
        }
        await readRanges(replay, groupId, ranges);
      }
      if (stopSignal.signal.aborted) return; // taken over by another worker after 60 s
      await db.webhookReplay.update({ where: { id: replay.id }, data: { status: "done", finishedAt: new Date() } });
      log.info({ replayId: String(replay.id) }, "replay done");
    } finally {
      await admin.deleteGroups([groupId]).catch(() => {}); // nothing committed yet, or already gone
      await admin.disconnect();
    }
  }

  async function readRanges(replay: Claimed, groupId: string, ranges: { topic: string; partition: number; start: bigint; end: bigint }[]) {
    const ends = new Map(ranges.map((r) => [positionKey(r.topic, r.partition), r.end]));
    const open = new Set(ends.keys());
    const consumer = kafka.consumer({ groupId, ...PROJECTION_CONSUMER, maxWaitTimeInMs: 200, maxBytesPerPartition: 4 * 1024 * 1024 });
    let finished!: () => void;
    let failed!: (error: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finished = resolve;
      failed = reject;
    });
    current = { stop: () => consumer.disconnect() };
    consumer.on(consumer.events.CRASH, (e) => failed(e.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: ranges.map((r) => r.topic).filter((t, i, all) => all.indexOf(t) === i) });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }: EachBatchPayload) => {
        const key = positionKey(batch.topic, batch.partition);
        const end = ends.get(key);
        if (end === undefined || !open.has(key)) return;
        const subscription = await db.webhookSubscription.findUnique({ where: { id: replay.subscription_id }, select: { eventTypes: true } });
        if (!subscription) throw new Error("the webhook was deleted");
        const stream = streamOfTopic(batch.topic, kafkaConfig, options.streams);
        const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
        const last = inRange.at(-1)?.offset ?? null;
        const selects = (type: string) => subscription.eventTypes.length === 0 || subscription.eventTypes.includes(type);
        const rows = queueRows(
          { topic: batch.topic, partition: batch.partition, stream },
          inRange,
          (event) => (selects(event.type) ? [replay.subscription_id] : []),
          replay.id,
        );
        const { count } = rows.length ? await db.webhookDelivery.createMany({ data: rows, skipDuplicates: true }) : { count: 0 };
        await db.webhookReplay.update({ where: { id: replay.id }, data: { queued: { increment: count }, heartbeatAt: new Date() } });
        if (last !== null) {
          resolveOffset(last);
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last) + 1n) }] }] });
        }
        await heartbeat();
        if (last === null || BigInt(last) + 1n >= end) {
          open.delete(key);
          if (open.size === 0) finished();
        }
      },
    });
    const abort = () => finished();
    stopSignal.signal.addEventListener("abort", abort, { once: true });
    try {
      await done;
    } finally {
      stopSignal.signal.removeEventListener("abort", abort);
      current = null;
      await consumer.disconnect();
    }
  }

  async function run() {
    while (!stopSignal.signal.aborted) {
      let replay: Claimed | null = null;
      try {
        replay = await claim();
        if (replay) await runReplay(replay);
      } catch (error) {
        log.error({ err: error, replayId: replay ? String(replay.id) : undefined }, "replay failed");
        if (replay) {
          await db.webhookReplay
            .updateMany({ where: { id: replay.id }, data: { status: "failed", finishedAt: new Date(), error: String((error as Error).message ?? error).slice(0, 1_000) } })
            .catch(() => {});
        }
      }
      if (!replay) await sleep(options.pollMs ?? 2_000, undefined, { signal: stopSignal.signal }).catch(() => {});
    }
  }

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopSignal.abort();
      await current?.stop();
      await loop;
    },
  };
}
