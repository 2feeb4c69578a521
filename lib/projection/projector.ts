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
 *
 * Operations: the instance registers in `projector_instances` (heartbeat,
 * assigned partitions), counts into the process's Prometheus metrics, and logs
 * JSON lines through pino (a line per batch at debug level, per event at trace).
 */
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { deadLetterTopic, STREAMS, streamOfTopic, topicName } from "@/lib/kafka/topics";
import { getLogger, type Logger } from "@/lib/log";
import { projectorMetrics } from "@/lib/metrics/projector-metrics";
import { applyBatch, type BatchOutcome, type DeadLetter } from "./apply-batch";
import { createInstanceRegistry, type InstanceRegistry } from "./instance-registry";
import { seekToPositions, storedPositions } from "./positions";

export interface ProjectorOptions {
  db: Db;
  config: KafkaConfig;
  kafka?: Kafka;
  /**
   * Partitions processed in parallel by this instance (default PROJECTOR_CONCURRENCY: 3): while
   * one batch's statements run in PostgreSQL, another is decoded and folded in JavaScript. On
   * 2 cores, 3 reached 71–80% of the raw-insert baseline where 2 reached 35–59% (bench/PERFORMANCE.md).
   */
  concurrency?: number;
  /** Defaults to the process logger (lib/log.ts); `silentLogger` in tests. */
  logger?: Logger;
  /** Port of this process's /metrics endpoint, recorded with the instance (null: off). */
  metricsPort?: number | null;
  /** Heartbeat period of the instance row (default 5 s). */
  heartbeatIntervalMs?: number;
  onBatch?: (outcome: BatchOutcome & { topic: string; partition: number }) => void;
}

export interface Projector {
  /** This process's row in projector_instances. */
  readonly instanceId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Partition batches in flight per projector process (and per rebuild replay). */
export const PROJECTOR_CONCURRENCY = 3;

/**
 * Consumer settings shared by the projector and a rebuild's replay. A SIGKILLed
 * instance holds its partitions until its session expires, and a rebalance waits
 * up to rebalanceTimeout for members to rejoin: keep both short (batches take
 * milliseconds) so a crash costs seconds, not a minute.
 */
export const PROJECTION_CONSUMER = {
  allowAutoTopicCreation: false,
  sessionTimeout: 10_000,
  rebalanceTimeout: 20_000,
  heartbeatInterval: 1_000,
  retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12, restartOnFailure: async () => true },
} as const satisfies Omit<ConsumerConfig, "groupId">;

/** Correlation ids listed on one batch's debug line at most. */
const MAX_LOGGED_IDS = 20;

export function createProjector(options: ProjectorOptions): Projector {
  const { db, config } = options;
  const group = config.PROJECTOR_GROUP_ID;
  const registry: InstanceRegistry = createInstanceRegistry({
    db,
    group,
    logger: options.logger ?? getLogger(),
    metricsPort: options.metricsPort,
    intervalMs: options.heartbeatIntervalMs,
  });
  const log = (options.logger ?? getLogger()).child({ component: "projector", group, instanceId: registry.instanceId });
  const metrics = projectorMetrics();
  const kafka = options.kafka ?? createKafka(config, "projector");
  const topics = STREAMS.map((s) => topicName(s, config));
  const consumer: Consumer = kafka.consumer({
    groupId: group,
    ...PROJECTION_CONSUMER,
  });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  let stopping: Promise<void> | null = null;

  async function seekToStoredOffsets(assignment: Record<string, number[]>) {
    seekToPositions(consumer, assignment, await storedPositions(db, group));
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
            // The original headers travel along, so the DLQ topic alone can replay a message.
            ...l.headers,
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
    const started = process.hrtime.bigint();
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
            logger: log,
          },
          sendToDeadLetters,
        ),
      { maxWait: 10_000, timeout: 60_000 },
    );
    // Only now, with the database committed, may Kafka learn the new position.
    const last = batch.messages.at(-1);
    if (last) {
      resolveOffset(last.offset);
      // With autoCommit off, commitOffsetsIfNecessary() without offsets commits nothing
      // (kafkajs 2.2.4 only commits on an interval or threshold): name the offset.
      const next = String(BigInt(last.offset) + 1n);
      await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
    }
    await heartbeat();
    options.onBatch?.({ ...outcome, topic: batch.topic, partition: batch.partition });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    recordBatch(batch.topic, batch.partition, batch.highWatermark, outcome, seconds);
  }

  /** Metrics and log lines of a committed batch (so nothing is reported that could still roll back). */
  function recordBatch(topic: string, partition: number, highWatermark: string, outcome: BatchOutcome, seconds: number) {
    metrics.batchDuration.observe({ topic }, seconds);
    for (const event of outcome.applied) metrics.eventsProjected.inc({ topic, type: event.type });
    if (outcome.deadLetters.length) metrics.deadLetters.inc({ topic }, outcome.deadLetters.length);
    if (outcome.nextOffset !== null) {
      const lag = BigInt(highWatermark) - BigInt(outcome.nextOffset);
      metrics.partitionLag.set({ topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
    }
    if (log.isLevelEnabled("debug")) {
      log.debug(
        {
          topic,
          partition,
          applied: outcome.applied.length,
          deadLetters: outcome.deadLetters.length,
          skipped: outcome.skipped,
          nextOffset: outcome.nextOffset,
          ms: Math.round(seconds * 1000),
          // The requests this batch carried (a batch usually holds a few); one line per event at trace level.
          correlationIds: [...new Set(outcome.applied.map((e) => e.correlationId))].slice(0, MAX_LOGGED_IDS),
        },
        "batch projected",
      );
    }
    if (log.isLevelEnabled("trace")) {
      for (const e of outcome.applied) {
        log.trace(
          { topic, partition, eventId: e.id, type: e.type, aggregateId: e.aggregateId, correlationId: e.correlationId },
          "event projected",
        );
      }
    }
    for (const d of outcome.deadLetters) {
      log.warn(
        { topic: d.topic, partition: d.partition, offset: d.offset, reason: d.reason, correlationId: d.correlationId },
        "dead-lettered",
      );
    }
  }

  function assigned(memberId: string, assignment: Record<string, number[]>) {
    log.info({ memberId, assignment }, "partitions assigned");
    // Lag is reported for the partitions held now only; the previous holder's series go.
    metrics.partitionLag.reset();
    metrics.assignedPartitions.reset();
    for (const [topic, partitions] of Object.entries(assignment)) metrics.assignedPartitions.set({ topic }, partitions.length);
    void registry.assigned(memberId, assignment);
  }

  return {
    instanceId: registry.instanceId,
    async start() {
      await registry.register();
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assigned(payload.memberId, payload.memberAssignment);
        seekToStoredOffsets(payload.memberAssignment).catch((error: unknown) =>
          log.error({ err: error }, "could not seek to stored offsets"),
        );
      });
      consumer.on(consumer.events.REBALANCING, () => void registry.revoked());
      consumer.on(consumer.events.CRASH, ({ payload }) =>
        log.error({ err: payload.error, restart: payload.restart }, "consumer crashed"),
      );
      await producer.connect();
      await consumer.connect();
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency ?? PROJECTOR_CONCURRENCY,
        eachBatch,
      });
      log.info({ topics }, "projector started");
    },
    stop() {
      stopping ??= (async () => {
        await consumer.disconnect();
        await producer.disconnect();
        await registry.stop();
        log.info("projector stopped");
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
