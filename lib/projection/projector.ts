/**
 * The read-model projector: consumer group `read-model` (configurable), one
 * PostgreSQL transaction per partition batch, or per fetch where its batches
 * are small (group commit), offsets committed to Kafka only after the database
 * commit, and positions resumed from PostgreSQL on every assignment (from the
 * log's start for a partition PostgreSQL holds no position of).
 *
 * Failure policy (see kafkajs docs/Consuming.md):
 * - a message it cannot read or apply (or one on the wrong partition for its
 *   key) → a `dead_letters` row in the batch's own transaction, and the
 *   partition moves on; the relay copies it to `<topic>.dlq` afterwards, in
 *   bounded requests, retrying on its own: a dead letter never blocks anything;
 * - anything else (PostgreSQL down, a bug) → the batch throws, nothing is
 *   committed, kafkajs retries with backoff from the same position, and the
 *   failure is recorded for the health page (consumer_partition_errors); a
 *   transaction shared by several partitions' batches is first retried batch
 *   by batch, so only the failing partition's batch throws;
 * - a batch fetched from past the stored position (or, with none stored, past
 *   the log's start) → refused, and the consumer seeks back: a gap is never
 *   skipped;
 * - the consumer itself crashes (kafkajs gives up on non-retriable errors) →
 *   a new one after a backoff (lib/kafka/supervised-consumer.ts); meanwhile the
 *   instance is shown crashed, with the error, holding nothing.
 *
 * Operations: the instance registers in `projector_instances` (a heartbeat only
 * while the consumer loop proves it runs, assigned partitions), counts into the
 * process's Prometheus metrics, and logs JSON lines through pino (a line per
 * batch at debug level, per event at trace).
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Admin, ConsumerConfig, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createInstanceRegistry, type InstanceRegistry } from "@/lib/consumers/instance-registry";
import { partitionErrors } from "@/lib/consumers/partition-errors";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { superviseConsumer } from "@/lib/kafka/supervised-consumer";
import { streamOfTopic, topicName } from "@/lib/kafka/topics";
import { getLogger, type Logger } from "@/lib/log";
import type { Composition } from "@/lib/module";
import { projectorMetrics } from "@/lib/metrics/projector-metrics";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { partitionCounts } from "@/lib/kafka/partition-counts";
import { createPersonalDataKeys, type PersonalDataKeys } from "@/lib/privacy/key-store";
import { inSqlTransaction, sqlPoolOf, type StatementListener } from "@/lib/sql-tx";
import { applyBatches, type BatchOutcome } from "./apply-batch";
import { groupCommit } from "./group-commit";
import { createDeadLetterRelay } from "./dead-letter-relay";
import { fetchedOffsetOf, logStartOf, resumeAtStoredPositions, storedPositions } from "./positions";

export interface ProjectorOptions {
  db: Db;
  config: KafkaConfig;
  /** The modules (modules/index.ts): their streams are the topics, their projections apply the events. */
  app: ProjectionApp;
  /** The key store of personal data (default: PostgreSQL's, wrapped by DATA_KEY_ENCRYPTION_KEY). */
  personalData?: PersonalDataKeys;
  kafka?: Kafka;
  /**
   * Transactions in flight in this instance (default PROJECTOR_CONCURRENCY: 3): while one's
   * statements run in PostgreSQL, another's batches are decoded and folded in JavaScript. On
   * 2 cores, 3 reached 71–80% of the raw-insert baseline where 2 reached 35–59% (bench/PERFORMANCE.md).
   * The small batches of one fetch share a transaction (group commit, up to 1,000 messages).
   */
  concurrency?: number;
  /**
   * The least time between two live fetches, in milliseconds (default 0: fetch again as soon as a
   * fetch's batches are committed). Under a steady stream of small batches, a fetch's handlers hold
   * the next fetch until this long after theirs, so what arrives meanwhile is applied in one
   * transaction instead of one each: fewer transactions, fetches and offset commits per event, for
   * up to this much freshness. What a hold delays is the next fetch, never the batches in hand: the
   * event that ends a quiet spell is applied at once, and only what follows it within lingerMs waits.
   * Batches that took longer than this (catching up) hold nothing. The worker's PROJECTOR_LINGER_MS
   * (lib/config.ts).
   */
  lingerMs?: number;
  /** Defaults to the process logger (lib/log.ts); `silentLogger` in tests. */
  logger?: Logger;
  /** Port of this process's /metrics endpoint, recorded with the instance (null: off). */
  metricsPort?: number | null;
  /** Heartbeat period of the instance row (default 5 s). */
  heartbeatIntervalMs?: number;
  /** First delay before restarting a crashed consumer (default 1 s, doubling to 30 s). */
  restartBackoffMs?: number;
  onBatch?: (outcome: BatchOutcome & { topic: string; partition: number }) => void;
  /** Each statement of a batch's transaction and its duration (the bench's breakdown by statement). */
  onStatement?: StatementListener;
}

export interface Projector {
  /** This process's row in projector_instances. */
  readonly instanceId: string;
  /** Crashes of the Kafka consumer so far (each followed by a restart). */
  readonly crashes: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the projector and a rebuild take from the composition of the modules. */
export type ProjectionApp = Pick<Composition, "streams" | "serde" | "projectionOf" | "readModelTables" | "modules" | "registry">;

/** Transactions in flight per projector process (and partition batches per rebuild replay). */
export const PROJECTOR_CONCURRENCY = 3;

/**
 * Partition batches kafkajs hands the projector at once (its workers): enough for every partition
 * of a fetch on a default topic (50 partitions), so that a fetch's batches reach the group commit together.
 */
const BATCHES_HANDED_OUT = 64;

/**
 * Messages in one merged transaction at most: live batches (one or a few events a partition) merge;
 * a catching-up partition's batch (thousands of events) runs alone, as before, beside two others.
 */
const MERGED_MESSAGES_MAX = 1_000;

/**
 * Consumer settings shared by the projector and a rebuild's replay. A SIGKILLed
 * instance holds its partitions until its session expires, and a rebalance waits
 * up to rebalanceTimeout for members to rejoin: keep both short (batches take
 * milliseconds) so a crash costs seconds, not a minute.
 */
export const PROJECTION_CONSUMER = {
  allowAutoTopicCreation: false,
  // Fetches of up to 4 MB per partition (kafkajs' default is 1 MB, about 1,400 events): a projector
  // catching up applies each partition's backlog in fewer, bigger transactions, and a user with
  // several events in one batch has one row write and one head write, not one per fetch. On a
  // 300k-event backlog (bench, 2026-12-01): 8,844 → 14,416 events/s. A live batch holds what
  // arrived since the last one, so this changes only catching up. 4,000-odd events take well under
  // a second in a batch, far below its 8 s statement bound (apply-batch.ts).
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxBytes: 32 * 1024 * 1024,
  sessionTimeout: 10_000,
  rebalanceTimeout: 20_000,
  heartbeatInterval: 1_000,
  retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12, restartOnFailure: async () => true },
} as const satisfies Omit<ConsumerConfig, "groupId">;

/** Correlation ids listed on one batch's debug line at most. */
const MAX_LOGGED_IDS = 20;

/** An admin client connected on first use, and disconnected by `close`. */
export function lazyAdmin(kafka: Kafka) {
  let admin: Promise<Admin> | null = null;
  return {
    get: () =>
      (admin ??= (async () => {
        const a = kafka.admin();
        await a.connect();
        return a;
      })().catch((error: unknown) => {
        admin = null;
        throw error;
      })),
    async close() {
      const a = admin;
      admin = null;
      if (a) await (await a.catch(() => null))?.disconnect();
    },
  };
}

export function createProjector(options: ProjectorOptions): Projector {
  const { db, config } = options;
  const group = config.PROJECTOR_GROUP_ID;
  const concurrency = options.concurrency ?? PROJECTOR_CONCURRENCY;
  const lingerMs = options.lingerMs ?? 0;
  // The batches' own connections, one per partition in flight, on node-postgres directly (lib/sql-tx.ts).
  const batchPool = sqlPoolOf(db, { max: concurrency, connectionTimeoutMs: 10_000 });
  const logger = options.logger ?? getLogger();
  const metrics = projectorMetrics();
  const kafka = options.kafka ?? createKafka(config, "projector");
  const topics = options.app.streams.map((s) => topicName(s, config));
  const admin = lazyAdmin(kafka);
  const partitionsOf = partitionCounts(admin.get);
  // Its own producer, with short retries: a DLQ topic that is gone must not keep a relay pass for long.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 2 },
  });
  let stopping: Promise<void> | null = null;
  /** Ends the batches' lingering holds (lingerMs) at once when the projector stops. */
  const stopped = new AbortController();

  const consumer = superviseConsumer({
    kafka,
    config: { groupId: group, ...PROJECTION_CONSUMER },
    topics,
    logger,
    backoff: options.restartBackoffMs ? { initialMs: options.restartBackoffMs, maxMs: 30_000 } : undefined,
    run: {
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition batch of a fetch at once, so that they can share a transaction; the
      // transactions in flight are bounded by `concurrency` (group commit, below).
      partitionsConsumedConcurrently: Math.max(concurrency, BATCHES_HANDED_OUT),
      eachBatch: (payload) => eachBatch(payload),
    },
    onJoin: (c, memberId, assignment) => {
      assigned(memberId, assignment);
      storedPositions(db, group)
        .then((positions) => resumeAtStoredPositions(c, assignment, positions, log))
        .catch((error: unknown) => log.error({ err: error }, "could not seek to stored offsets"));
      void failures.load(assignment);
    },
    onRebalancing: () => void registry.revoked(),
    onCrash: (error, restartInMs, crashes) => {
      metrics.consumerCrashes.inc();
      metrics.partitionLag.reset();
      metrics.assignedPartitions.reset();
      log.error({ err: error, restartInMs, crashes }, restartInMs === null ? "consumer crashed; kafkajs restarts it" : `consumer crashed; restarting it in ${restartInMs} ms`);
      void registry.crashed(error, crashes);
    },
  });
  const registry: InstanceRegistry = createInstanceRegistry({
    db,
    group,
    logger,
    liveness: () => consumer.liveness(),
    metricsPort: options.metricsPort,
    intervalMs: options.heartbeatIntervalMs,
  });
  const log = logger.child({ component: "projector", group, instanceId: registry.instanceId });
  const failures = partitionErrors(db, group, log);
  const personalData = options.personalData ?? createPersonalDataKeys(db, keyWrapperFromEnv());
  const relay = createDeadLetterRelay({ db, producer, admin: admin.get, group, logger: log });

  const logStart = logStartOf(admin.get);

  /** One partition batch's part of a merged transaction. */
  interface Submitted {
    payload: EachBatchPayload;
    partitions: number;
    /** Set when its transaction committed: how long it took, and how many batches it held. */
    transaction?: { seconds: number; batches: number };
  }

  // The batches of one fetch, handed out together, are applied in one transaction (./group-commit.ts).
  const batches = groupCommit<Submitted, BatchOutcome | null>({
    slots: concurrency,
    size: (s) => s.payload.batch.messages.length,
    maxSize: MERGED_MESSAGES_MAX,
    run: (items) => applyMerged(items),
    onSplit: (error, count) => log.warn({ err: error, batches: count }, "merged batches failed; retrying each partition's batch alone"),
  });

  /** A partition's next offset for Kafka, with the function that commits it (the consumer's). */
  interface OffsetCommit {
    topic: string;
    partition: number;
    offset: string;
    commit: EachBatchPayload["commitOffsetsIfNecessary"];
  }

  // The offsets of the batches a transaction committed go to Kafka in one request, not one each;
  // a failed request is retried offset by offset, so each batch gets its own answer.
  const offsetCommits = groupCommit<OffsetCommit, void>({
    slots: 1,
    size: () => 1,
    maxSize: Number.POSITIVE_INFINITY,
    run: async (items) => {
      const byTopic = new Map<string, Map<number, string>>();
      for (const { topic, partition, offset } of items) {
        const partitions = byTopic.get(topic) ?? new Map<number, string>();
        const known = partitions.get(partition);
        if (known === undefined || BigInt(offset) > BigInt(known)) partitions.set(partition, offset);
        byTopic.set(topic, partitions);
      }
      // With autoCommit off, commitOffsetsIfNecessary() without offsets commits nothing
      // (kafkajs 2.2.4 only commits on an interval or threshold): name the offsets.
      await items[0]!.commit({
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })) })),
      });
      return items.map(() => undefined);
    },
  });

  async function eachBatch(payload: EachBatchPayload) {
    const { batch, isRunning, isStale } = payload;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    await projectBatch(payload);
  }

  /** Null for a batch gone stale (sought elsewhere) or stopped while it waited for its transaction. */
  async function applyMerged(items: readonly Submitted[]): Promise<(BatchOutcome | null)[]> {
    const current = items.filter((s) => s.payload.isRunning() && !s.payload.isStale());
    if (current.length === 0) return items.map(() => null);
    const began = process.hrtime.bigint();
    const outcomes = await inSqlTransaction(
      batchPool,
      (tx) =>
        applyBatches(
          tx,
          current.map(({ payload: { batch }, partitions }) => ({
            group,
            topic: batch.topic,
            partition: batch.partition,
            stream: streamOfTopic(batch.topic, config, options.app.streams),
            app: options.app,
            personalData,
            partitions,
            fetchedOffset: fetchedOffsetOf(batch),
            logStart: () => logStart(batch.topic, batch.partition),
            messages: batch.messages,
            logger: log,
          })),
        ),
      { onStatement: options.onStatement, prepared: true },
    );
    const transaction = { seconds: Number(process.hrtime.bigint() - began) / 1e9, batches: current.length };
    for (const s of current) s.transaction = transaction;
    return items.map((s) => {
      const i = current.indexOf(s);
      return i < 0 ? null : outcomes[i]!;
    });
  }

  async function projectBatch(payload: EachBatchPayload) {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat } = payload;
    const started = process.hrtime.bigint();
    let outcome: BatchOutcome | null;
    let submitted: Submitted;
    try {
      submitted = { payload, partitions: await partitionsOf(batch.topic) };
      outcome = await batches.submit(submitted);
    } catch (error) {
      // Rolled back: kafkajs retries the batch from the same position. Say why, where everyone looks.
      metrics.batchFailures.inc({ topic: batch.topic });
      log.error({ err: error, topic: batch.topic, partition: batch.partition, offset: batch.messages[0]?.offset }, "batch failed; retrying");
      await failures.failed(batch.topic, batch.partition, batch.messages[0]?.offset ?? null, error);
      throw error;
    }
    if (outcome === null) return;
    if (outcome.gapFrom !== undefined) {
      // Fetched from past what PostgreSQL holds (e.g. its data restored from before the last
      // commits): go back to the stored position instead of skipping what lies between.
      consumer.current().seek({ topic: batch.topic, partition: batch.partition, offset: outcome.gapFrom });
      return;
    }
    // PostgreSQL holds the new position: the partition moved, whatever Kafka says next (a
    // rebalance failing the offset commit below is kafkajs' business, not the partition's).
    await failures.progressed(batch.topic, batch.partition);
    // Only now, with the database committed, may Kafka learn the new position.
    const last = batch.messages.at(-1);
    if (last) {
      resolveOffset(last.offset);
      const next = String(BigInt(last.offset) + 1n);
      await offsetCommits.submit({ topic: batch.topic, partition: batch.partition, offset: next, commit: commitOffsetsIfNecessary });
    }
    await heartbeat();
    if (outcome.deadLetters.length) relay.wake();
    options.onBatch?.({ ...outcome, topic: batch.topic, partition: batch.partition });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    recordBatch(batch.topic, batch.partition, batch.highWatermark, outcome, seconds, submitted.transaction);
    // kafkajs fetches again once every batch of this fetch has returned: holding this one holds the fetch.
    const rest = lingerMs - seconds * 1000;
    if (rest >= 1 && payload.isRunning() && !payload.isStale()) await delay(rest, undefined, { signal: stopped.signal }).catch(() => undefined);
  }

  /** Metrics and log lines of a committed batch (so nothing is reported that could still roll back). */
  function recordBatch(
    topic: string,
    partition: number,
    highWatermark: string,
    outcome: BatchOutcome,
    seconds: number,
    transaction: Submitted["transaction"],
  ) {
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
          // From the fetch to the Kafka commit; the transaction's own time, shared by the batches it held.
          ms: Math.round(seconds * 1000),
          transactionMs: transaction ? Math.round(transaction.seconds * 1000) : null,
          batchesInTransaction: transaction?.batches ?? null,
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
    get crashes() {
      return consumer.crashes;
    },
    async start() {
      await registry.register();
      await producer.connect();
      relay.start();
      await consumer.start();
      log.info({ topics }, "projector started");
    },
    stop() {
      stopping ??= (async () => {
        stopped.abort();
        await consumer.stop();
        await relay.stop();
        await producer.disconnect();
        await admin.close();
        await registry.stop();
        await batchPool.end();
        log.info("projector stopped");
      })();
      return stopping;
    },
  };
}
