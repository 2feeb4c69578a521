/**
 * A kafkajs consumer that never stops silently.
 *
 * kafkajs restarts a crashed consumer only when the error is retriable: a
 * KafkaJSNonRetriableError (a request the broker refuses, a bug in a handler
 * wrapped as one) leaves it disconnected for good while the process lives on.
 * Here every crash is reported (`onCrash`) and followed by a new consumer after
 * a capped exponential backoff, for as long as the owner has not stopped it.
 *
 * It also keeps the proof of life the instance registry heartbeats on: the
 * loop's last fetch or finished batch, and how long the oldest batch in flight
 * has been running. A timer that runs is not proof; a loop that fetches is.
 */
import type { Consumer, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics, Kafka } from "kafkajs";
import type { Logger } from "@/lib/log";

export interface SupervisedConsumerOptions {
  kafka: Kafka;
  config: ConsumerConfig;
  topics: ConsumerSubscribeTopics["topics"];
  run: ConsumerRunConfig;
  logger: Logger;
  /** Kafka assigned partitions to this member (GROUP_JOIN of the current consumer). */
  onJoin?: (consumer: Consumer, memberId: string, assignment: Record<string, number[]>) => void;
  /** A rebalance started: the partitions held until now are being revoked. */
  onRebalancing?: () => void;
  /** The consumer crashed; it is restarted in `restartInMs` (null: kafkajs restarts it itself). */
  onCrash?: (error: Error, restartInMs: number | null, crashes: number) => void;
  /** Backoff of the restarts after a crash kafkajs does not restart (default 1 s doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** The loop counts as stuck with no fetch or finished batch for this long (default 30 s). */
  idleLimitMs?: number;
  /** …or with a batch in flight for this long (default 90 s: longer than a batch transaction's timeout). */
  batchLimitMs?: number;
}

export type Liveness = { ok: true } | { ok: false; state: "crashed" | "stuck" | "stopped"; reason: string };

export interface SupervisedConsumer {
  start(): Promise<void>;
  /** Disconnects the current consumer and cancels any pending restart. */
  stop(): Promise<void>;
  /** The consumer running now (it is replaced after a crash): for seek, pause and resume. */
  current(): Consumer;
  liveness(now?: number): Liveness;
  /** Crashes so far (each followed by a restart unless stopped). */
  readonly crashes: number;
}

const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

export function superviseConsumer(options: SupervisedConsumerOptions): SupervisedConsumer {
  const { kafka, logger: log } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const idleLimitMs = options.idleLimitMs ?? 30_000;
  const batchLimitMs = options.batchLimitMs ?? 90_000;
  let consumer = kafka.consumer(options.config);
  let stopped = false;
  let crashes = 0;
  /** Consecutive crashes without a fetch in between: the backoff's exponent. */
  let failing = 0;
  let crashed: Error | null = null;
  let restartTimer: NodeJS.Timeout | null = null;
  let lastActivity = Date.now();
  const inFlight = new Map<string, number>();

  const alive = () => {
    lastActivity = Date.now();
    if (crashed) log.info({ groupId: options.config.groupId }, "consumer running again after its crash");
    crashed = null;
    failing = 0;
  };

  function watch(c: Consumer) {
    c.on(c.events.FETCH_START, alive);
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      alive();
      options.onJoin?.(c, payload.memberId, payload.memberAssignment);
    });
    c.on(c.events.REBALANCING, () => options.onRebalancing?.());
    c.on(c.events.START_BATCH_PROCESS, ({ payload }) => inFlight.set(`${payload.topic}/${payload.partition}`, Date.now()));
    c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
      inFlight.delete(`${payload.topic}/${payload.partition}`);
      lastActivity = Date.now();
    });
    c.on(c.events.CRASH, ({ payload }) => {
      if (c !== consumer || stopped) return;
      crashes += 1;
      failing += 1;
      crashed = payload.error;
      inFlight.clear();
      if (payload.restart) {
        options.onCrash?.(payload.error, null, crashes);
        return;
      }
      const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failing - 1, 16));
      options.onCrash?.(payload.error, delay, crashes);
      scheduleRestart(delay);
    });
  }

  function scheduleRestart(delay: number) {
    if (stopped) return;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopped) return;
      // A crashed kafkajs consumer has disconnected itself; a new one rejoins the group cleanly.
      consumer = kafka.consumer(options.config);
      run(consumer).catch((error: unknown) => {
        // Kafka unreachable while restarting: count it as one more crash and wait longer.
        crashes += 1;
        failing += 1;
        crashed = error instanceof Error ? error : new Error(String(error));
        const next = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failing - 1, 16));
        options.onCrash?.(crashed, next, crashes);
        void consumer.disconnect().catch(() => {});
        scheduleRestart(next);
      });
    }, delay);
  }

  async function run(c: Consumer) {
    watch(c);
    await c.connect();
    await c.subscribe({ topics: options.topics, fromBeginning: true });
    await c.run(options.run);
  }

  return {
    get crashes() {
      return crashes;
    },
    current: () => consumer,
    async start() {
      lastActivity = Date.now();
      await run(consumer);
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      await consumer.disconnect();
    },
    liveness(now = Date.now()): Liveness {
      if (stopped) return { ok: false, state: "stopped", reason: "stopped" };
      if (crashed) return { ok: false, state: "crashed", reason: crashed.message };
      for (const [partition, since] of inFlight) {
        if (now - since > batchLimitMs) {
          return { ok: false, state: "stuck", reason: `a batch of ${partition} has run for ${Math.round((now - since) / 1000)} s` };
        }
      }
      if (now - lastActivity > idleLimitMs) {
        return { ok: false, state: "stuck", reason: `no fetch and no finished batch for ${Math.round((now - lastActivity) / 1000)} s` };
      }
      return { ok: true };
    },
  };
}
