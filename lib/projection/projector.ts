/**
 * The read-model projector: consumer group `read-model` (configurable), one
 * PostgreSQL transaction per batch, offsets committed to Kafka only after the
 * database commit, and positions resumed from PostgreSQL on every assignment.
 *
 * Failure policy (see kafkajs docs/Consuming.md):
 * - a message it cannot read or apply → `<topic>.dlq` with the reason, counted
 *   in dead_letters, and the partition moves on;
 * - anything else (PostgreSQL down, a bug) → the batch throws, nothing is
 *   committed, kafkajs retries with backoff from the same position.
 */
import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { deadLetterTopic, STREAMS, streamOfTopic, topicName } from "@/lib/kafka/topics";
import { applyBatch, type BatchOutcome, type DeadLetter } from "./apply-batch";

export interface ProjectorOptions {
  db: Db;
  config: KafkaConfig;
  kafka?: Kafka;
  /** Partitions processed in parallel by this instance. */
  concurrency?: number;
  log?: (entry: Record<string, unknown>) => void;
  onBatch?: (outcome: BatchOutcome & { topic: string; partition: number }) => void;
}

export interface Projector {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const verbose = process.env.LOG_LEVEL === "debug";

/** JSON lines on stdout; per-batch "debug" entries only with LOG_LEVEL=debug. */
function defaultLog(entry: Record<string, unknown>) {
  if (entry.level === "debug" && !verbose) return;
  console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
}

export function createProjector(options: ProjectorOptions): Projector {
  const { db, config } = options;
  const log = options.log ?? defaultLog;
  const kafka = options.kafka ?? createKafka(config, "projector");
  const group = config.PROJECTOR_GROUP_ID;
  const topics = STREAMS.map((s) => topicName(s, config));
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    allowAutoTopicCreation: false,
    // A SIGKILLed instance holds its partitions until its session expires, and a
    // rebalance waits up to rebalanceTimeout for members to rejoin: keep both
    // short (batches take milliseconds) so a crash costs seconds, not a minute.
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 1_000,
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12, restartOnFailure: async () => true },
  });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  let stopping: Promise<void> | null = null;

  async function seekToStoredOffsets(assignment: Record<string, number[]>) {
    for (const [topic, partitions] of Object.entries(assignment)) {
      const rows = await db.$queryRaw<{ partition: number; next_offset: bigint }[]>`
        SELECT partition, next_offset FROM projection_offsets
        WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ANY(${partitions}::int[])`;
      for (const row of rows) consumer.seek({ topic, partition: row.partition, offset: String(row.next_offset) });
    }
  }

  async function sendToDeadLetters(letters: DeadLetter[]) {
    if (letters.length === 0) return;
    const byTopic = new Map<string, DeadLetter[]>();
    for (const l of letters) byTopic.set(l.topic, [...(byTopic.get(l.topic) ?? []), l]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic: deadLetterTopic(topic),
        messages: list.map((l) => ({
          key: l.key,
          value: l.value,
          headers: {
            "dlq-reason": l.reason,
            "dlq-original-topic": l.topic,
            "dlq-original-partition": String(l.partition),
            "dlq-original-offset": l.offset,
            "dlq-consumer-group": group,
          },
        })),
      })),
    });
  }

  async function eachBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const started = Date.now();
    const outcome = await db.$transaction(
      (tx) =>
        applyBatch(
          tx,
          {
            group,
            topic: batch.topic,
            partition: batch.partition,
            stream: streamOfTopic(batch.topic, config),
            messages: batch.messages,
          },
          sendToDeadLetters,
        ),
      { maxWait: 10_000, timeout: 60_000 },
    );
    // Only now, with the database committed, may Kafka learn the new position.
    const last = batch.messages.at(-1);
    if (last) resolveOffset(last.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
    options.onBatch?.({ ...outcome, topic: batch.topic, partition: batch.partition });
    log({
      level: "debug",
      msg: "batch projected",
      topic: batch.topic,
      partition: batch.partition,
      applied: outcome.applied.length,
      deadLetters: outcome.deadLetters.length,
      skipped: outcome.skipped,
      nextOffset: outcome.nextOffset,
      ms: Date.now() - started,
    });
    for (const d of outcome.deadLetters) {
      log({ level: "warn", msg: "dead-lettered", topic: d.topic, partition: d.partition, offset: d.offset, reason: d.reason });
    }
  }

  return {
    async start() {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        log({ level: "info", msg: "partitions assigned", memberId: payload.memberId, assignment: payload.memberAssignment });
        seekToStoredOffsets(payload.memberAssignment).catch((error: unknown) =>
          log({ level: "error", msg: "could not seek to stored offsets", error: String(error) }),
        );
      });
      consumer.on(consumer.events.CRASH, ({ payload }) =>
        log({ level: "error", msg: "consumer crashed", error: String(payload.error), restart: payload.restart }),
      );
      await producer.connect();
      await consumer.connect();
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency ?? 2,
        eachBatch,
      });
      log({ level: "info", msg: "projector started", group, topics });
    },
    stop() {
      stopping ??= (async () => {
        await consumer.disconnect();
        await producer.disconnect();
        log({ level: "info", msg: "projector stopped", group });
      })();
      return stopping;
    },
  };
}

/** Read-your-writes: resolves true once the projector has passed every position, false at the deadline. */
export async function waitForProjection(
  db: Db,
  group: string,
  positions: ReadonlyArray<{ topic: string; partition: number; offset: string }>,
  timeoutMs = 3_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = true;
    for (const p of positions) {
      const rows = await db.$queryRaw<{ next_offset: bigint }[]>`
        SELECT next_offset FROM projection_offsets
        WHERE consumer_group = ${group} AND topic = ${p.topic} AND partition = ${p.partition}`;
      if (!rows[0] || rows[0].next_offset <= BigInt(p.offset)) {
        done = false;
        break;
      }
    }
    if (done) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
