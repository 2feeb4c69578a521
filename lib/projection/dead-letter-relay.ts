/**
 * Copies dead letters to their `<topic>.dlq` topic, after the fact.
 *
 * `dead_letters` is the record of a dead letter: the projector writes the row in
 * the same transaction as the partition's new position, so a dead letter is
 * never lost and never holds its partition up. This relay is the outbox's
 * publisher. It takes the rows not yet copied, oldest first, and sends them in
 * requests bounded by the DLQ topic's `max.message.bytes` (and 512 kB, as the
 * command side's appender does): kafkajs sends one request's messages to a
 * partition as one record batch, and the broker refuses a batch over the topic's
 * limit as a whole.
 *
 * A message too large for the topic on its own is copied without its value
 * (header `dlq-value-omitted`), then without its original headers; the row keeps
 * everything, and its reason says what the copy lacks. Any other failure
 * (topic deleted, broker down) is retried with a capped backoff, per row, and is
 * visible in the log, the metrics and the health page (dlq_last_error); it never
 * stops projection. Several projector processes may run a relay: rows are
 * claimed with SKIP LOCKED, so each is sent by one of them.
 */
import type { Admin, Message, Producer } from "kafkajs";
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import { deadLetterTopic } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { projectorMetrics } from "@/lib/metrics/projector-metrics";

/** Bytes of one request at most (the appender's bound, lib/kafka/producer.ts). */
const MAX_REQUEST_BYTES = 512 * 1024;
/** The broker's default max.message.bytes, when the topic's cannot be read. */
const DEFAULT_TOPIC_LIMIT = 1_048_588;
/** Rows claimed per pass. */
const CLAIM = 100;
const POLL_MS = 2_000;
const RETRY = { initialMs: 1_000, maxMs: 60_000 };

export interface DeadLetterRelay {
  start(): void;
  /** Dead letters were just committed: copy them now rather than at the next poll. */
  wake(): void;
  /** Ends the loop after the pass in flight. */
  stop(): Promise<void>;
  /** One pass (tests): rows copied, or given up on as they are, in it. */
  runOnce(): Promise<number>;
}

interface Row {
  id: bigint;
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: string | null;
  headers: Record<string, string> | null;
  reason: string;
  dlq_attempts: number;
}

interface Outgoing {
  row: Row;
  message: Message;
  bytes: number;
  /** What the copy lacks, appended to the row's reason once it is sent. */
  lacks: string | null;
}

export function createDeadLetterRelay(deps: {
  db: Db;
  producer: Producer;
  admin: () => Promise<Admin>;
  group: string;
  logger: Logger;
  pollMs?: number;
}): DeadLetterRelay {
  const { db, producer, group } = deps;
  const log = deps.logger.child({ component: "dead-letter-relay" });
  const metrics = projectorMetrics();
  const limits = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let again = false;
  let stopped = false;

  /** The DLQ topic's max.message.bytes (asked once per topic; the default if it cannot be read). */
  async function topicLimit(topic: string): Promise<number> {
    const known = limits.get(topic);
    if (known) return known;
    let limit = DEFAULT_TOPIC_LIMIT;
    try {
      const { resources } = await (await deps.admin()).describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ["max.message.bytes"] }],
      });
      const value = Number(resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
      if (Number.isFinite(value) && value > 0) limit = value;
      limits.set(topic, limit);
    } catch (error) {
      log.debug({ err: error, topic }, "max.message.bytes not read; assuming the broker default");
    }
    return limit;
  }

  function outgoing(row: Row, limit: number): Outgoing {
    const dlqHeaders = {
      "dlq-reason": row.reason,
      "dlq-original-topic": row.topic,
      "dlq-original-partition": String(row.partition),
      "dlq-original-offset": String(row.offset),
      "dlq-consumer-group": group,
    };
    // The original headers travel along, so the DLQ topic alone can replay a message.
    const full = { key: row.key, value: row.value, headers: { ...(row.headers ?? {}), ...dlqHeaders } };
    const size = (m: { key: string | null; value: string | null; headers: Record<string, string> }) =>
      recordBytes(m.key, m.value, m.headers);
    if (size(full) <= limit) return { row, message: full, bytes: size(full), lacks: null };
    const valueBytes = Buffer.byteLength(row.value ?? "");
    const withoutValue = { ...full, value: null, headers: { ...full.headers, "dlq-value-omitted": `${valueBytes} bytes` } };
    const lacksValue = `its value (${valueBytes.toLocaleString("en")} bytes) is too large for ${deadLetterTopic(row.topic)}`;
    if (size(withoutValue) <= limit) return { row, message: withoutValue, bytes: size(withoutValue), lacks: lacksValue };
    const bare = { key: row.key, value: null, headers: { ...dlqHeaders, "dlq-reason": row.reason.slice(0, 1_000), "dlq-value-omitted": `${valueBytes} bytes`, "dlq-headers-omitted": "true" } };
    return { row, message: bare, bytes: size(bare), lacks: `${lacksValue}, and so are its headers` };
  }

  async function markSent(tx: Tx, items: Outgoing[]) {
    const plain = items.filter((i) => !i.lacks).map((i) => i.row.id);
    if (plain.length) {
      await tx.$executeRaw`
        UPDATE dead_letters SET dlq_published_at = now(), dlq_last_error = NULL, dlq_next_attempt_at = NULL
        WHERE id = ANY(${plain}::bigint[])`;
    }
    for (const i of items.filter((i) => i.lacks)) {
      const note = ` (the copy in ${deadLetterTopic(i.row.topic)} lacks ${i.lacks}: this row keeps the whole message)`;
      await tx.$executeRaw`
        UPDATE dead_letters SET dlq_published_at = now(), dlq_last_error = NULL, dlq_next_attempt_at = NULL,
          reason = reason || ${note}
        WHERE id = ${i.row.id}`;
    }
  }

  async function markFailed(tx: Tx, items: Outgoing[], error: unknown) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
    metrics.deadLetterRelayFailures.inc({ topic: items[0]!.row.topic }, items.length);
    log.warn(
      { err: error, topic: deadLetterTopic(items[0]!.row.topic), deadLetters: items.length, attempts: items[0]!.row.dlq_attempts + 1 },
      "dead letters not copied to their DLQ topic; retrying with backoff",
    );
    for (const i of items) {
      const delay = Math.min(RETRY.maxMs, RETRY.initialMs * 2 ** Math.min(i.row.dlq_attempts, 16));
      await tx.$executeRaw`
        UPDATE dead_letters SET dlq_attempts = dlq_attempts + 1, dlq_last_error = ${message},
          dlq_next_attempt_at = now() + ${delay} * interval '1 millisecond'
        WHERE id = ${i.row.id}`;
    }
  }

  /** Sends `items` (one DLQ topic) in bounded requests; a request refused as too large is split. */
  async function send(tx: Tx, topic: string, items: Outgoing[], limit: number): Promise<void> {
    const requestLimit = Math.min(MAX_REQUEST_BYTES, limit);
    let chunk: Outgoing[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const request = chunk;
      chunk = [];
      bytes = 0;
      try {
        await producer.send({ topic, acks: -1, messages: request.map((i) => i.message) });
        await markSent(tx, request);
      } catch (error) {
        if (isTooLarge(error) && request.length > 1) {
          // Our estimate was short of the broker's count: one at a time then.
          for (const i of request) await send(tx, topic, [i], limit);
        } else if (isTooLarge(error) && !request[0]!.lacks) {
          // The topic's limit is lower than we read (changed since?): ask again, copy what fits.
          limits.delete(topic);
          await send(tx, topic, [outgoing(request[0]!.row, Math.min(limit, request[0]!.bytes - 1))], limit);
        } else {
          await markFailed(tx, request, error);
        }
      }
    };
    for (const item of items) {
      if (chunk.length && bytes + item.bytes > requestLimit) await flush();
      chunk.push(item);
      bytes += item.bytes;
    }
    await flush();
  }

  async function pass(): Promise<number> {
    // The poll runs every 2 s in every projector: one indexed look before opening a transaction.
    const due = await db.$queryRaw<unknown[]>`
      SELECT 1 FROM dead_letters
      WHERE dlq_published_at IS NULL AND (dlq_next_attempt_at IS NULL OR dlq_next_attempt_at <= now()) LIMIT 1`;
    if (due.length === 0) return 0;
    return db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<Row[]>`
          SELECT id, topic, partition, "offset", key, value, headers, reason, dlq_attempts FROM dead_letters
          WHERE dlq_published_at IS NULL AND (dlq_next_attempt_at IS NULL OR dlq_next_attempt_at <= now())
          ORDER BY id LIMIT ${CLAIM} FOR UPDATE SKIP LOCKED`;
        const byTopic = new Map<string, Row[]>();
        for (const r of rows) {
          const topic = deadLetterTopic(r.topic);
          const list = byTopic.get(topic);
          if (list) list.push(r);
          else byTopic.set(topic, [r]);
        }
        for (const [topic, list] of byTopic) {
          const limit = await topicLimit(topic);
          await send(tx, topic, list.map((r) => outgoing(r, limit)), limit);
        }
        return rows.length;
      },
      { maxWait: 10_000, timeout: 120_000 },
    );
  }

  async function loop() {
    do {
      again = false;
      try {
        const n = await pass();
        if (n === CLAIM) again = true;
      } catch (error) {
        log.warn({ err: error }, "dead-letter relay pass failed; trying again shortly");
      }
    } while (again && !stopped);
  }

  function kick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = null;
    });
  }

  return {
    start() {
      timer = setInterval(kick, deps.pollMs ?? POLL_MS);
      timer.unref();
      kick();
    },
    wake: kick,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
    runOnce: pass,
  };
}

/** An upper estimate of a record's bytes in a v2 record batch (varint lengths, attributes, deltas). */
function recordBytes(key: string | null, value: string | null, headers: Record<string, string>): number {
  let n = 64 + Buffer.byteLength(key ?? "") + Buffer.byteLength(value ?? "");
  for (const [k, v] of Object.entries(headers)) n += 10 + Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** The broker refused a record batch as larger than the topic (or the broker) accepts. */
function isTooLarge(error: unknown): boolean {
  for (let e = error as { type?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === "MESSAGE_TOO_LARGE" || e.type === "RECORD_LIST_TOO_LARGE") return true;
    if (/larger than the max message size/i.test(e.message ?? "")) return true;
  }
  return false;
}
