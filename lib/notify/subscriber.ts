/**
 * The consumer loop every notifier shares. A notifier is a consumer group of
 * its own on the event topics (so it never holds up the read model), plus a
 * Channel that says what an event calls for and how to deliver it, and a view
 * of what it learnt from earlier events. Channels, views and their rules are a
 * feature's (modules/notifications); this loop knows no event by name.
 *
 * Per event, in partition order:
 *  1. a message it cannot decode is skipped with a log line (the projector
 *     dead-letters it; a notifier has nothing to add);
 *  2. an event id already in notifications_sent for this group is skipped:
 *     a redelivered batch or a republished event sends nothing twice;
 *  3. the channel plans a message from the event and what this notifier knew
 *     before it (its own view, e.g. modules/notifications/known.ts);
 *  4. the message is sent, retried with capped exponential backoff for as long
 *     as it fails: the partition waits, nothing is skipped, no offset moves;
 *  5. one transaction records the send and the view's change (retried in
 *     place if PostgreSQL fails: failing the batch would send again); then the
 *     offset is committed to Kafka.
 *
 * Delivery is at least once. A crash after the receiver accepted a message and
 * before step 5 committed sends it once more on restart: that window is one
 * small INSERT wide, and narrower is impossible without the receiver taking
 * an idempotency key (mail gets a Message-ID derived from the event id, which
 * lets mail systems drop the copy; Slack webhooks take none).
 */
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createPersonalDataKeys, type PersonalDataKeys } from "@/lib/privacy/key-store";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { setTimeout as sleep } from "node:timers/promises";
import type { EachBatchPayload, Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createInstanceRegistry } from "@/lib/consumers/instance-registry";
import { partitionErrors } from "@/lib/consumers/partition-errors";
import type { Db } from "@/lib/db";
import type { Tx } from "@/lib/command/execute";
import type { Serde } from "@/lib/events/codec";
import type { AnyEvent } from "@/lib/events/envelope";
import { getLogger, logsPersonalData } from "@/lib/log";
import { createKafka } from "@/lib/kafka/client";
import { superviseConsumer } from "@/lib/kafka/supervised-consumer";
import { streamOfTopic, topicName } from "@/lib/kafka/topics";
import { backoffDelay, DEFAULT_RETRY, PermanentSendError, type RetryPolicy } from "./retry";

export interface Notification {
  /** What kind of message this is ("welcome", "admin-granted", …): logs and notifications_sent.kind. */
  kind: string;
}

export interface Channel<M extends Notification, E extends AnyEvent, K> {
  /** Pure: the message `event` calls for, given what this notifier knew just before it; null for none. */
  plan(event: E, known: K): M | null;
  /** Delivers `message`, or throws: PermanentSendError to give it up, anything else to be retried. */
  send(message: M, event: E): Promise<void>;
  /** Where messages go, for the start-up line (no secrets). */
  destination: string;
  /** Set when the channel is not configured: each message is logged as not sent, and the log moves on. */
  disabled?: string;
  close?(): void | Promise<void>;
}

export type Log = (entry: Record<string, unknown>) => void;

/**
 * What a notifier knows from the events it read (its own rows, keyed by its
 * group), so it never reads the read model: loaded before an event, folded
 * with it (pure), saved with the send's record.
 */
export interface NotifierView<E extends AnyEvent, K, C> {
  load(db: Db, group: string, event: E): Promise<K>;
  fold(known: K, event: E): C;
  /** Whether `change` changes anything (else nothing is written for an event that sent nothing). */
  changes(change: C): boolean;
  save(tx: Tx, group: string, change: C): Promise<void>;
}

export interface SubscriberOptions<M extends Notification, E extends AnyEvent, K, C> {
  db: Db;
  config: KafkaConfig;
  /** The streams to read and the serde to read them with (the modules', modules/index.ts). */
  streams: readonly string[];
  serde: Pick<Serde<E>, "decode" | "registry">;
  /**
   * The key store: the keys that reveal personal data, and who is erased (an erased person's
   * data reads as ERASED; lib/privacy). Default: PostgreSQL's, wrapped by DATA_KEY_ENCRYPTION_KEY.
   */
  personalData?: Pick<PersonalDataKeys, "ring">;
  view: NotifierView<E, K, C>;
  /** The consumer group; also the key of this notifier's rows in notifications_sent and its view. */
  group: string;
  channel: Channel<M, E, K>;
  /** Events older than this (by occurredAt) update the view but send nothing. */
  maxAgeMs: number;
  retry?: RetryPolicy;
  kafka?: Kafka;
  /** Partitions processed in parallel by this instance. */
  concurrency?: number;
  log?: Log;
  now?: () => number;
}

export interface Subscriber {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);

/** Through the process's pino logger (lib/log.ts): per-batch "debug" entries only with LOG_LEVEL=debug. */
const jsonLine = (group: string): Log => {
  const logger = getLogger().child({ group });
  return ({ level, msg, ...rest }) => {
    const method = typeof level === "string" && LEVELS.has(level) ? (level as "info") : "info";
    logger[method](rest, typeof msg === "string" ? msg : "");
  };
};

type BatchControl = Pick<EachBatchPayload, "heartbeat" | "isRunning" | "isStale">;
/** Where the event being handled sits: a failure is recorded against its partition. */
type Position = { topic: string; partition: number; offset: string };
const STOPPED = Symbol("stopped");

export function createSubscriber<M extends Notification, E extends AnyEvent, K, C>(
  options: SubscriberOptions<M, E, K, C>,
): Subscriber {
  const { db, config, group, channel, maxAgeMs, view, serde } = options;
  const personalData = options.personalData ?? createPersonalDataKeys(db, keyWrapperFromEnv());
  const log = options.log ?? jsonLine(group);
  const now = options.now ?? Date.now;
  const retry = options.retry ?? DEFAULT_RETRY;
  const kafka = options.kafka ?? createKafka(config, group);
  const topics = options.streams.map((s) => topicName(s, config));
  const stopSignal = new AbortController();
  const logger = getLogger().child({ group });
  // Shown on the health page like the projector: who is alive, who holds what, why a partition waits.
  const failures = partitionErrors(db, group, logger);
  const consumer = superviseConsumer({
    kafka,
    config: {
      groupId: group,
      allowAutoTopicCreation: false,
      // Heartbeats continue while a send is retried (see retrying), so the session
      // only has to outlast one bounded attempt.
      sessionTimeout: Math.max(30_000, retry.attemptTimeoutMs * 3),
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      // How long an idle fetch waits. With kafkajs' default (5 s), new events
      // were seen up to 5 s late in the tests here; a second is plenty for mail.
      maxWaitTimeInMs: 1_000,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12, restartOnFailure: async () => !stopSignal.signal.aborted },
    },
    topics,
    logger,
    // A send retried for as long as its receiver fails keeps its batch in flight: that is a
    // stalled partition (recorded with its error below), not a dead loop.
    batchLimitMs: Number.POSITIVE_INFINITY,
    run: {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? 2,
      eachBatch: (payload) => eachBatch(payload),
    },
    onJoin: (_c, memberId, assignment) => {
      log({ level: "info", msg: "partitions assigned", memberId, assignment });
      void registry.assigned(memberId, assignment);
      void failures.load(assignment);
    },
    onRebalancing: () => void registry.revoked(),
    onCrash: (error, restartInMs, crashes) => {
      log({ level: "error", msg: "consumer crashed", error: String(error), restartInMs, crashes });
      void registry.crashed(error, crashes);
    },
  });
  const registry = createInstanceRegistry({ db, group, logger, liveness: () => consumer.liveness() });
  let stopping: Promise<void> | null = null;

  /** Waits `ms`, heartbeating; false when the wait was cut short by a stop or a lost partition. */
  async function pause(ms: number, control: BatchControl): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (stopSignal.signal.aborted || !control.isRunning() || control.isStale()) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      try {
        await sleep(Math.min(left, 1_000), undefined, { signal: stopSignal.signal });
      } catch {
        return false; // stopped
      }
      await control.heartbeat(); // throws on a rebalance: the batch ends uncommitted, as it should
    }
  }

  /**
   * Runs `work` until it succeeds, waiting a capped, growing delay after each
   * failure and heartbeating throughout. STOPPED when the process stops (or
   * loses the partition) meanwhile; a PermanentSendError is thrown on at once.
   */
  async function retrying(
    what: string,
    about: Record<string, unknown>,
    work: () => Promise<void>,
    control: BatchControl,
    at: Position,
  ) {
    for (let attempt = 1; ; attempt++) {
      // Keep the group membership alive while one attempt is in flight.
      const beat = setInterval(() => void control.heartbeat().catch(() => {}), 3_000);
      try {
        await work();
        return attempt;
      } catch (error) {
        if (error instanceof PermanentSendError) throw error;
        const delay = backoffDelay(attempt, retry);
        log({ level: "warn", msg: `${what} failed; retrying`, ...about, attempt, retryInMs: delay, error: String(error) });
        await failures.failed(at.topic, at.partition, at.offset, error);
        if (!(await pause(delay, control))) return STOPPED;
      } finally {
        clearInterval(beat);
      }
    }
  }

  /** Steps 3–5 for one event: whether something was delivered, or "stopped" before it was done. */
  async function handle(
    event: E,
    control: BatchControl,
    at: Position,
    /** The event's person is erased (lib/privacy): folded, never sent about, even by a group that is behind. */
    aboutErased: boolean,
  ): Promise<"delivered" | "nothing" | "stopped"> {
    const known = await view.load(db, group, event);
    const change = view.fold(known, event);
    const message = aboutErased ? null : channel.plan(event, known);
    let outcome: "sent" | "rejected" | null = null;
    const about = { kind: message?.kind, eventId: event.id, type: event.type, aggregateId: event.aggregateId };
    if (message) {
      if (now() - Date.parse(event.occurredAt) > maxAgeMs) {
        log({ level: "info", msg: "not sent: older than NOTIFY_MAX_AGE_HOURS", ...about, occurredAt: event.occurredAt });
      } else if (channel.disabled) {
        // The message names the person: logged only with LOG_PERSONAL_DATA=true (README, Privacy).
        log({ level: "info", msg: `not sent: ${channel.disabled}`, ...about, ...(logsPersonalData() ? { message } : {}) });
      } else {
        try {
          const attempts = await retrying("send", about, () => channel.send(message, event), control, at);
          if (attempts === STOPPED) return "stopped";
          log({ level: "info", msg: "sent", ...about, attempts });
          outcome = "sent";
        } catch (error) {
          if (!(error instanceof PermanentSendError)) throw error;
          log({ level: "error", msg: "refused for good; not retried", ...about, error: error.message });
          outcome = "rejected";
        }
      }
    }
    if (!view.changes(change) && !outcome) return "nothing";
    // Retried here rather than by failing the batch: a redelivered batch would send the message again.
    const recorded = await retrying(
      "record",
      about,
      () =>
        db.$transaction(async (tx) => {
          await view.save(tx, group, change);
          if (outcome) {
            await tx.$executeRaw`
              INSERT INTO notifications_sent (consumer, event_id, kind, outcome)
              VALUES (${group}, ${event.id}::uuid, ${message!.kind}, ${outcome})
              ON CONFLICT (consumer, event_id) DO NOTHING`;
          }
        }),
      control,
      at,
    );
    if (recorded === STOPPED) {
      if (outcome) log({ level: "warn", msg: "stopped before recording a sent message: it will be sent again", ...about });
      return "stopped";
    }
    return outcome ? "delivered" : "nothing";
  }

  async function alreadyHandled(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.$queryRaw<{ id: string }[]>`
      SELECT event_id::text AS id FROM notifications_sent WHERE consumer = ${group} AND event_id = ANY(${ids}::uuid[])`;
    return new Set(rows.map((r) => r.id));
  }

  async function eachBatch({ batch, resolveOffset, commitOffsetsIfNecessary, ...control }: EachBatchPayload) {
    const { topic, partition } = batch;
    const stream = streamOfTopic(topic, config, options.streams);
    // resolveOffset moves this consumer's fetch position (without it kafkajs
    // fetches the same messages again and again); with autoCommit off, only an
    // explicit position commits anything to Kafka.
    const commit = async (offset: string) => {
      resolveOffset(offset);
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(BigInt(offset) + 1n) }] }] });
      await failures.progressed(topic, partition);
    };
    const ring = await personalData.ring(db, wantedKeys(batch.messages));
    const decoded = batch.messages.map((m) => ({
      offset: m.offset,
      result: serde.decode(m.value, stream, m.key?.toString("utf8") ?? null, ring),
    }));
    // An erasure's events (its UserDeleted, then UserErased) are appended in one request, so they
    // arrive in one batch: its person counts as erased for the whole batch, also when the batch is
    // read before the erasure's transaction (the key's tombstone) has committed.
    const erasedHere = new Set(
      decoded.flatMap((d) => (d.result.ok && serde.registry[d.result.event.type]?.erasesPerson ? [d.result.event.aggregateId.toLowerCase()] : [])),
    );
    const isErased = (id: string) => ring.isErased(id) || erasedHere.has(id.toLowerCase());
    const handled = await alreadyHandled(decoded.flatMap((d) => (d.result.ok ? [d.result.event.id] : [])));
    let done: string | null = null;
    for (const { offset, result } of decoded) {
      if (stopSignal.signal.aborted || !control.isRunning() || control.isStale()) break;
      if (!result.ok) {
        log({ level: "warn", msg: "skipped: cannot decode (dead-lettered by the projector)", topic, partition, offset, reason: result.reason });
      } else if (!handled.has(result.event.id)) {
        const outcome = await handle(result.event, control, { topic, partition, offset }, isErased(result.event.aggregateId));
        if (outcome === "stopped") break;
        handled.add(result.event.id); // its twin later in this batch (a republish) is skipped too
        if (outcome === "delivered") {
          await commit(offset); // after a send, keep what a crash could redeliver to this one event
          await control.heartbeat();
        }
      }
      done = offset;
    }
    if (done !== null) await commit(done);
    log({ level: "debug", msg: "batch handled", topic, partition, messages: batch.messages.length, upTo: done });
  }

  return {
    async start() {
      await registry.register();
      await consumer.start();
      log({
        level: "info",
        msg: channel.disabled ? `notifier started; ${channel.disabled}: messages are logged, not sent` : "notifier started",
        destination: channel.destination,
        topics,
      });
    },
    stop() {
      stopping ??= (async () => {
        stopSignal.abort(); // cuts a retry's wait short; the unsent event stays uncommitted
        await consumer.stop();
        await channel.close?.();
        await registry.stop();
        log({ level: "info", msg: "notifier stopped" });
      })();
      return stopping;
    },
  };
}
