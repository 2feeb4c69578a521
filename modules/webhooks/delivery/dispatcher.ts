/**
 * The dispatcher: one consumer group (WEBHOOKS_GROUP_ID) over every domain
 * topic, whatever the number of subscriptions. It never makes a request: per
 * batch, one transaction queues a row in webhook_deliveries for each event and
 * each active subscription that selects it (the message as it is in the log)
 * and stores the partition's next offset in webhook_positions; Kafka's commit
 * follows. Positions are resumed from PostgreSQL on every assignment, and a
 * batch at or below the stored position queues nothing twice, so queuing is
 * exactly once per subscription and event. The senders (./sender.ts) work
 * through the queue, each subscription on its own, so a slow receiver holds up
 * nobody, the projector least of all (its own group).
 *
 * A subscription gets the events written to the log from its creation on
 * (the message's Kafka timestamp), and none while it is disabled; "Replay
 * from" (./replay.ts) queues earlier ones.
 */
import type { EachBatchPayload, Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createInstanceRegistry } from "@/lib/consumers/instance-registry";
import { partitionErrors } from "@/lib/consumers/partition-errors";
import type { Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { superviseConsumer } from "@/lib/kafka/supervised-consumer";
import { streamOfTopic, topicName } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { fetchedOffsetOf, logStartOf, positionGap, positionKey, resumeAtStoredPositions, type Positions } from "@/lib/projection/positions";
import { lazyAdmin, PROJECTION_CONSUMER } from "@/lib/projection/projector";
import { webhookMetrics } from "./metrics";
import { queueRows } from "./queue-rows";

export interface DispatcherOptions {
  db: Db;
  kafkaConfig: KafkaConfig;
  group: string;
  streams: readonly string[];
  logger: Logger;
  kafka?: Kafka;
  metricsPort?: number | null;
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** A subscription as the dispatcher selects for it. */
interface Selector {
  id: string;
  eventTypes: string[];
  createdAt: Date;
}

/** Which subscriptions get a message, by its type and its time in the log. */
export function selectSubscriptions(subscriptions: readonly Selector[], type: string, loggedAt: Date): string[] {
  return subscriptions
    .filter((s) => loggedAt.getTime() >= s.createdAt.getTime() && (s.eventTypes.length === 0 || s.eventTypes.includes(type)))
    .map((s) => s.id);
}

async function storedPositions(db: Db, group: string): Promise<Positions> {
  const rows = await db.webhookPosition.findMany({ where: { consumerGroup: group } });
  return new Map(rows.map((r) => [positionKey(r.topic, r.partition), r.nextOffset]));
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { db, kafkaConfig, group, logger } = options;
  const kafka = options.kafka ?? createKafka(kafkaConfig, "webhooks");
  const topics = options.streams.map((s) => topicName(s, kafkaConfig));
  const metrics = webhookMetrics();
  const log = logger.child({ component: "webhook-dispatcher", group });
  const failures = partitionErrors(db, group, log);
  const admin = lazyAdmin(kafka);
  const logStart = logStartOf(admin.get);
  const consumer = superviseConsumer({
    kafka,
    config: { groupId: group, ...PROJECTION_CONSUMER, maxWaitTimeInMs: 500 },
    topics: topics.map((t) => t),
    logger: log,
    run: {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: (payload) => eachBatch(payload),
    },
    onJoin: (c, memberId, assignment) => {
      void registry.assigned(memberId, assignment);
      storedPositions(db, group)
        // A partition with no stored position starts at the log's start: none of it is queued.
        .then((positions) => resumeAtStoredPositions(c, assignment, positions, log))
        .catch((error: unknown) => log.error({ err: error }, "could not seek to stored positions"));
      void failures.load(assignment);
    },
    onRebalancing: () => void registry.revoked(),
    onCrash: (error, restartInMs, crashes) => {
      log.error({ err: error, restartInMs, crashes }, "consumer crashed");
      void registry.crashed(error, crashes);
    },
  });
  const registry = createInstanceRegistry({ db, group, logger: log, liveness: () => consumer.liveness(), metricsPort: options.metricsPort });

  /** Queues the batch's deliveries; answers the next offset, or where to go back to ("gap"). */
  async function queueBatch(tx: Tx, batch: EachBatchPayload["batch"]): Promise<{ next: bigint; queued: number } | { gapFrom: bigint }> {
    const { topic, partition } = batch;
    const [stored] = await tx.$queryRaw<{ next_offset: bigint }[]>`
      SELECT next_offset FROM webhook_positions WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ${partition} FOR UPDATE`;
    // Fetched past what PostgreSQL holds (a seek not yet applied; with no position stored, past the
    // log's start: a database restored from before the first batches): go back rather than skip.
    const fetchedOffset = fetchedOffsetOf(batch);
    const gap = await positionGap(stored?.next_offset, fetchedOffset, () => logStart(topic, partition));
    if (gap) {
      log.warn({ topic, partition, ...gap, fetchedOffset }, "batch fetched past the stored position or the log's start: refused; seeking back");
      return { gapFrom: BigInt(gap.gapFrom) };
    }
    const fresh = batch.messages.filter((m) => !stored || BigInt(m.offset) >= stored.next_offset);
    const next = BigInt(batch.messages.at(-1)!.offset) + 1n;
    if (fresh.length === 0) return { next: stored?.next_offset ?? next, queued: 0 };
    const subscriptions = await tx.webhookSubscription.findMany({
      where: { status: "active" },
      select: { id: true, eventTypes: true, createdAt: true },
    });
    const stream = streamOfTopic(topic, kafkaConfig, options.streams);
    const rows = subscriptions.length
      ? queueRows({ topic, partition, stream }, fresh, (event, loggedAt) => selectSubscriptions(subscriptions, event.type, loggedAt))
      : [];
    // A republished event (same id) is queued once per subscription while it waits.
    const { count } = rows.length ? await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true }) : { count: 0 };
    await tx.$executeRaw`
      INSERT INTO webhook_positions (consumer_group, topic, partition, next_offset, updated_at)
      VALUES (${group}, ${topic}, ${partition}, ${next}, now())
      ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()`;
    return { next, queued: count };
  }

  async function eachBatch({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    let outcome: Awaited<ReturnType<typeof queueBatch>>;
    try {
      outcome = await db.$transaction((tx) => queueBatch(tx, batch), { maxWait: 10_000, timeout: 30_000 });
    } catch (error) {
      log.error({ err: error, topic, partition, offset: batch.messages[0]?.offset }, "batch failed; retrying");
      await failures.failed(topic, partition, batch.messages[0]?.offset ?? null, error);
      throw error; // rolled back: kafkajs fetches the batch again
    }
    if ("gapFrom" in outcome) {
      consumer.current().seek({ topic, partition, offset: String(outcome.gapFrom) });
      return;
    }
    await failures.progressed(topic, partition);
    const last = batch.messages.at(-1)!;
    resolveOffset(last.offset);
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(outcome.next) }] }] });
    await heartbeat();
    const lag = BigInt(batch.highWatermark) - outcome.next;
    metrics.fanOutLag.set({ topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
    if (outcome.queued) log.debug({ topic, partition, queued: outcome.queued, next: String(outcome.next) }, "deliveries queued");
  }

  let stopping: Promise<void> | null = null;
  return {
    async start() {
      await registry.register();
      await consumer.start();
      log.info({ topics }, "webhook dispatcher started");
    },
    stop() {
      stopping ??= (async () => {
        await consumer.stop();
        await registry.stop();
        await admin.close();
      })();
      return stopping;
    },
  };
}
