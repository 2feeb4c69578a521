/**
 * The senders: they work through webhook_deliveries (queued by ./dispatcher.ts),
 * every subscription on its own, so a slow or failing receiver only ever
 * delays itself.
 *
 * - Order: a row goes out only when no earlier event (log offset) of the same
 *   aggregate waits for the same subscription, so each aggregate's events
 *   arrive in log order, one at a time; different aggregates go in parallel
 *   (WEBHOOKS_CONCURRENCY_PER_SUBSCRIPTION per process).
 * - Claiming: a row is leased (leased_until) in one UPDATE, so several worker
 *   processes share the queue without sending a row twice at once. A lease
 *   outlives any request (2 × WEBHOOKS_TIMEOUT_MS + 1 s); a worker that dies
 *   mid-request leaves it to expire, and the row is sent again.
 * - Outcome: a 2xx deletes the row and clears the subscription's failure; any
 *   other answer, a timeout or a refused address is retried with capped
 *   exponential backoff. Every attempt is written to the delivery log. A
 *   subscription failing for longer than WEBHOOKS_DISABLE_AFTER_MS is disabled,
 *   with the reason shown on its page and a change by "system".
 *
 * At least once: a crash after the receiver answered and before the outcome
 * is recorded sends that request again; receivers drop repeats by webhook-id.
 */
import { createPersonalDataKeys } from "@/lib/privacy/key-store";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { setTimeout as sleep } from "node:timers/promises";
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";
import type { KafkaConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { streamOfTopic } from "@/lib/kafka/topics";
import type { Logger } from "@/lib/log";
import { backoffDelay } from "@/lib/notify/retry";
import type { WebhooksConfig } from "../config";
import { openSecret } from "../application/secrets";
import { webhookMetrics } from "./metrics";
import { post, type PostResult } from "./post";
import { readEventForDelivery } from "./read-event";
import { signHeaders } from "./signature";

export interface SenderOptions {
  db: Db;
  keys: KeyWrapper;
  config: WebhooksConfig;
  kafkaConfig: Pick<KafkaConfig, "KAFKA_TOPIC_PREFIX">;
  streams: readonly string[];
  logger: Logger;
  /** Idle poll interval (new rows, retries coming due). */
  pollMs?: number;
}

export interface Sender {
  start(): void;
  /** Stops claiming, and waits for the requests in flight (each bounded by its timeout). */
  stop(): Promise<void>;
}

interface ClaimedRow {
  id: bigint;
  subscription_id: string;
  event_id: string;
  event_type: string;
  topic: string | null;
  message_key: string | null;
  message_value: Uint8Array;
  replay_id: bigint | null;
  attempts: number;
}

interface Target {
  url: string;
  secrets: Buffer[];
}

export const leaseMs = (config: Pick<WebhooksConfig, "WEBHOOKS_TIMEOUT_MS">) => 2 * config.WEBHOOKS_TIMEOUT_MS + 1_000;

export function createSender(options: SenderOptions): Sender {
  const { db, keys, config, logger } = options;
  const personalData = createPersonalDataKeys(db, keys);
  const log = logger.child({ component: "webhook-sender" });
  const metrics = webhookMetrics();
  const pollMs = options.pollMs ?? 250;
  const retry = { initialMs: config.WEBHOOKS_RETRY_INITIAL_MS, maxMs: config.WEBHOOKS_RETRY_MAX_MS, attemptTimeoutMs: config.WEBHOOKS_TIMEOUT_MS };
  const inFlight = new Set<Promise<void>>();
  /**
   * The rows this process is delivering, until their outcome is recorded. Its own claims pass them
   * by, and count them against their subscription's concurrency, even once their lease has run
   * out: a lease bounds the request, not the reading before it or the recording after it, which a
   * process starved of CPU or of its database can stretch past the lease (the row went out twice).
   */
  const delivering = new Set<bigint>();
  const stopSignal = new AbortController();
  let wake: (() => void) | null = null;
  let loop: Promise<void> | null = null;
  let lagTimer: NodeJS.Timeout | null = null;
  /** Opened secrets by subscription, valid while its sealed columns are unchanged. */
  const secretCache = new Map<string, { sealed: string; secrets: Buffer[] }>();

  async function claim(room: number): Promise<ClaimedRow[]> {
    const perSubscription = config.WEBHOOKS_CONCURRENCY_PER_SUBSCRIPTION;
    const lease = `${leaseMs(config)} milliseconds`;
    const mine = [...delivering];
    return db.$queryRaw<ClaimedRow[]>`
      WITH leased AS (
        SELECT subscription_id, count(*)::int AS n FROM webhook_deliveries
        WHERE leased_until > now() OR id = ANY(${mine}::bigint[]) GROUP BY subscription_id
      ), heads AS (
        SELECT d.id, d.subscription_id,
          row_number() OVER (PARTITION BY d.subscription_id ORDER BY d.next_attempt_at, d.id) AS rn
        FROM webhook_deliveries d
        JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.status = 'active'
        WHERE d.next_attempt_at <= now()
          AND (d.leased_until IS NULL OR d.leased_until < now())
          AND NOT (d.id = ANY(${mine}::bigint[]))
          AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries e
            WHERE e.subscription_id = d.subscription_id AND e.aggregate_id = d.aggregate_id
              AND e.topic = d.topic AND e."offset" < d."offset")
      ), picked AS (
        SELECT h.id FROM heads h LEFT JOIN leased l ON l.subscription_id = h.subscription_id
        WHERE h.rn <= ${perSubscription} - COALESCE(l.n, 0)
        ORDER BY h.rn LIMIT ${room}
      )
      UPDATE webhook_deliveries d
      SET leased_until = now() + ${lease}::interval, attempts = d.attempts + 1
      FROM picked
      WHERE d.id = picked.id AND (d.leased_until IS NULL OR d.leased_until < now())
      RETURNING d.id, d.subscription_id::text, d.event_id::text, d.event_type, d.topic, d.message_key, d.message_value,
        d.replay_id, d.attempts`;
  }

  async function targetOf(subscriptionId: string): Promise<Target | null> {
    const s = await db.webhookSubscription.findUnique({
      where: { id: subscriptionId },
      select: { url: true, secretSealed: true, previousSecretSealed: true, previousSecretExpiresAt: true },
    });
    if (!s) return null;
    const previousValid = s.previousSecretSealed && s.previousSecretExpiresAt && s.previousSecretExpiresAt.getTime() > Date.now();
    const sealed = `${s.secretSealed}|${previousValid ? s.previousSecretSealed : ""}`;
    const cached = secretCache.get(subscriptionId);
    if (cached?.sealed === sealed) return { url: s.url, secrets: cached.secrets };
    const secrets = [await openSecret(keys, subscriptionId, s.secretSealed)];
    if (previousValid) secrets.push(await openSecret(keys, subscriptionId, s.previousSecretSealed!));
    secretCache.set(subscriptionId, { sealed, secrets });
    return { url: s.url, secrets };
  }

  /**
   * The request body: the event as the application reads it at send time, with the keys of its
   * personal data as they are now (an erasure since it was queued is respected). Test events are
   * stored as sent.
   */
  async function bodyOf(row: ClaimedRow): Promise<{ body: string } | { unreadable: string }> {
    if (row.topic === null) return { body: Buffer.from(row.message_value).toString("utf8") };
    const stream = streamOfTopic(row.topic, options.kafkaConfig, options.streams);
    const value = Buffer.from(row.message_value);
    const ring = await personalData.ring(db, wantedKeys([{ key: row.message_key, value }]));
    const read = readEventForDelivery({ stream, key: row.message_key, value }, ring);
    return read.ok ? { body: JSON.stringify(read.event) } : { unreadable: read.reason };
  }

  async function deliver(row: ClaimedRow) {
    const target = await targetOf(row.subscription_id);
    if (!target) return; // deleted meanwhile: its queue went with it
    const content = await bodyOf(row);
    let result: PostResult;
    if ("unreadable" in content) {
      result = { ok: false, statusCode: null, latencyMs: 0, error: `cannot read the event: ${content.unreadable}`, excerpt: null };
      await record(row, result, { drop: true });
      return;
    }
    const headers = signHeaders(target.secrets, row.event_id, new Date(), content.body);
    result = await post(target.url, { ...headers }, content.body, {
      timeoutMs: config.WEBHOOKS_TIMEOUT_MS,
      maxResponseBytes: config.WEBHOOKS_RESPONSE_MAX_BYTES,
      allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
    });
    metrics.delivered.inc({ subscription: row.subscription_id, outcome: result.ok ? "delivered" : "failed" });
    metrics.latency.observe({ subscription: row.subscription_id }, result.latencyMs / 1000);
    await record(row, result, { drop: false });
  }

  /** The attempt's outcome, in one transaction; retried in place (a failed record would resend a delivered event). */
  async function record(row: ClaimedRow, result: PostResult, { drop }: { drop: boolean }) {
    const retryInMs = backoffDelay(row.attempts, retry);
    const about = { subscriptionId: row.subscription_id, eventId: row.event_id, type: row.event_type, attempt: row.attempts };
    if (result.ok) log.debug({ ...about, status: result.statusCode, ms: result.latencyMs }, "delivered");
    else log.warn({ ...about, status: result.statusCode, error: result.error, retryInMs: drop ? null : retryInMs }, drop ? "not deliverable; dropped" : "delivery failed; retrying");
    for (let attempt = 1; ; attempt++) {
      try {
        await db.$transaction(async (tx) => {
          await tx.$executeRaw`
            INSERT INTO webhook_attempts (subscription_id, event_id, event_type, attempt, ok, status_code, latency_ms, error, response_excerpt, replay_id)
            SELECT ${row.subscription_id}::uuid, ${row.event_id}::uuid, ${row.event_type}, ${row.attempts}, ${result.ok}, ${result.statusCode},
              ${result.latencyMs}, ${result.error?.slice(0, 1_000) ?? null}, ${result.excerpt}, ${row.replay_id}
            WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = ${row.subscription_id}::uuid)`;
          if (result.ok || drop) {
            await tx.$executeRaw`DELETE FROM webhook_deliveries WHERE id = ${row.id}`;
          } else {
            await tx.$executeRaw`
              UPDATE webhook_deliveries SET leased_until = NULL, next_attempt_at = now() + ${`${retryInMs} milliseconds`}::interval
              WHERE id = ${row.id}`;
          }
          if (result.ok) {
            await tx.$executeRaw`
              UPDATE webhook_subscriptions SET failing_since = NULL, last_error = NULL
              WHERE id = ${row.subscription_id}::uuid AND failing_since IS NOT NULL`;
          } else {
            await failed(tx, row.subscription_id, result.error ?? "failed");
          }
          await tx.$executeRaw`
            DELETE FROM webhook_attempts WHERE subscription_id = ${row.subscription_id}::uuid AND id <= (
              SELECT id FROM webhook_attempts WHERE subscription_id = ${row.subscription_id}::uuid
              ORDER BY id DESC OFFSET ${config.WEBHOOKS_LOG_KEEP} LIMIT 1)`;
        });
        return;
      } catch (error) {
        log.error({ err: error, ...about, attempt }, "could not record a delivery attempt; retrying");
        if (stopSignal.signal.aborted) return; // the lease expires and the row is sent again
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

  /** Starts or continues the subscription's failure; disables it once it has lasted WEBHOOKS_DISABLE_AFTER_MS. */
  async function failed(tx: Tx, subscriptionId: string, error: string) {
    const [s] = await tx.$queryRaw<{ failing_since: Date; status: string }[]>`
      UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, now()), last_error = ${error.slice(0, 1_000)}
      WHERE id = ${subscriptionId}::uuid RETURNING failing_since, status`;
    if (!s || s.status !== "active") return;
    const [{ now }] = (await tx.$queryRaw<{ now: Date }[]>`SELECT now() AS now`) as [{ now: Date }];
    if (now.getTime() - s.failing_since.getTime() < config.WEBHOOKS_DISABLE_AFTER_MS) return;
    const reason = `Disabled automatically at ${now.toISOString()}: deliveries have failed since ${s.failing_since.toISOString()} (last error: ${error.slice(0, 300)}). Fix the receiver, then enable it: what is queued is sent then.`;
    await tx.$executeRaw`UPDATE webhook_subscriptions SET status = 'disabled', disabled_reason = ${reason} WHERE id = ${subscriptionId}::uuid`;
    await tx.$executeRaw`
      INSERT INTO webhook_subscription_changes (subscription_id, action, actor, detail)
      VALUES (${subscriptionId}::uuid, 'disabled', 'system', ${reason})`;
    log.warn({ subscriptionId, failingSince: s.failing_since }, "webhook disabled automatically");
  }

  async function refreshLag() {
    try {
      const rows = await db.$queryRaw<{ id: string; n: number }[]>`
        SELECT s.id::text AS id, count(d.id)::int AS n FROM webhook_subscriptions s
        LEFT JOIN webhook_deliveries d ON d.subscription_id = s.id GROUP BY s.id`;
      metrics.lag.reset();
      for (const r of rows) metrics.lag.set({ subscription: r.id }, r.n);
    } catch (error) {
      log.warn({ err: error }, "could not read the webhooks' lag");
    }
  }

  async function run() {
    stopSignal.signal.addEventListener("abort", () => wake?.(), { once: true });
    while (!stopSignal.signal.aborted) {
      const room = config.WEBHOOKS_CONCURRENCY - inFlight.size;
      let claimed: ClaimedRow[] = [];
      if (room > 0) {
        try {
          claimed = await claim(room);
        } catch (error) {
          log.error({ err: error }, "could not claim deliveries; trying again");
        }
      }
      for (const row of claimed) {
        delivering.add(row.id);
        const work: Promise<void> = deliver(row)
          .catch((error: unknown) => log.error({ err: error, eventId: row.event_id }, "delivery crashed; the lease expires and it is sent again"))
          .finally(() => {
            delivering.delete(row.id);
            inFlight.delete(work);
            wake?.();
          });
        inFlight.add(work);
      }
      if (claimed.length === 0 || room <= claimed.length) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    }
  }

  return {
    start() {
      loop ??= run();
      lagTimer = setInterval(() => void refreshLag(), 5_000);
      lagTimer.unref();
      void refreshLag();
      log.info({ concurrency: config.WEBHOOKS_CONCURRENCY, perSubscription: config.WEBHOOKS_CONCURRENCY_PER_SUBSCRIPTION }, "webhook sender started");
    },
    async stop() {
      stopSignal.abort();
      if (lagTimer) clearInterval(lagTimer);
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
