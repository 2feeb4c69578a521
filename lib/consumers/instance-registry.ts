/**
 * Each consumer process (projector, notifier) registers itself in
 * `projector_instances` under its consumer group, records the partitions Kafka
 * assigned it, and heartbeats every few seconds, so the health page can show
 * who is alive and who holds what.
 *
 * A heartbeat is proof that the consumer loop works, not that a timer runs:
 * each tick asks `liveness()` (lib/kafka/supervised-consumer.ts) and writes
 * `last_heartbeat_at` only when the loop fetched or finished a batch recently.
 * A crashed consumer is recorded as `consumer_state = 'crashed'` with its
 * error and no partitions until it runs again; a stuck one stops heartbeating
 * and says `consumer_state = 'stuck'` with the reason (a batch running for too
 * long, no fetch) for as long as the process lives. Writes are best effort: a failed one
 * (PostgreSQL briefly down) is logged and the next tick tries again; they
 * never stop consumption.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "@/lib/db";
import type { Liveness } from "@/lib/kafka/supervised-consumer";
import type { Logger } from "@/lib/log";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Rows of instances silent for longer than this are deleted (they are long gone). */
const FORGET_AFTER = "1 day";

export type Assignment = Record<string, number[]>;

export interface InstanceRegistry {
  readonly instanceId: string;
  register(): Promise<void>;
  /** Kafka assigned `assignment` to this member (kafkajs GROUP_JOIN). */
  assigned(memberId: string, assignment: Assignment): Promise<void>;
  /** A rebalance started: the partitions held until now are being revoked. */
  revoked(): Promise<void>;
  /** The consumer crashed: shown with its error, holding nothing, until it runs again. */
  crashed(error: Error, restarts: number): Promise<void>;
  /** Marks the instance stopped and ends the heartbeat. */
  stop(): Promise<void>;
}

export function createInstanceRegistry(options: {
  db: Db;
  group: string;
  logger: Logger;
  /** Whether the consumer loop proves it runs; no heartbeat is written while it does not. */
  liveness: () => Liveness;
  metricsPort?: number | null;
  intervalMs?: number;
}): InstanceRegistry {
  const { db, group, logger } = options;
  const host = hostname();
  const instanceId = `${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
  let timer: NodeJS.Timeout | null = null;
  /** The last reason the loop gave for not heartbeating, logged once per episode. */
  let silentBecause: string | null = null;

  // Writes run one after another, so a revocation never lands after the assignment that followed it.
  let tail: Promise<void> = Promise.resolve();
  const attempt = (what: string, work: () => Promise<unknown>) => {
    tail = tail.then(async () => {
      try {
        await work();
      } catch (error) {
        logger.warn({ err: error, instanceId }, `consumer instance: ${what} failed`);
      }
    });
    return tail;
  };

  const heartbeat = () => {
    const live = options.liveness();
    if (!live.ok) {
      if (live.state !== "stuck") return tail; // crashed: recorded by crashed(); stopped: nothing to say
      if (silentBecause === null) {
        logger.error({ instanceId, group, reason: live.reason }, "consumer loop shows no progress: heartbeat withheld");
      }
      silentBecause = live.reason;
      // No heartbeat, but the why, refreshed every period: the health page shows the instance
      // "stuck" with this reason while the process says so, and "no heartbeat" once it stops.
      const reason = live.reason.slice(0, 2_000);
      return attempt("recording the stuck loop", () => db.$executeRaw`
        UPDATE projector_instances SET consumer_state = 'stuck', last_error = ${reason}, last_error_at = now()
        WHERE instance_id = ${instanceId}`);
    }
    if (silentBecause !== null) logger.info({ instanceId, group }, "consumer loop progressing again: heartbeat resumed");
    silentBecause = null;
    return attempt("heartbeat", async () => {
      await db.$executeRaw`
        UPDATE projector_instances SET last_heartbeat_at = now(), consumer_state = 'running' WHERE instance_id = ${instanceId}`;
      await db.$executeRaw`
        DELETE FROM projector_instances
        WHERE consumer_group = ${group} AND last_heartbeat_at < now() - ${FORGET_AFTER}::interval`;
    });
  };

  return {
    instanceId,
    async register() {
      await attempt("registration", () => db.$executeRaw`
        INSERT INTO projector_instances (instance_id, consumer_group, host, pid, metrics_port, started_at, last_heartbeat_at)
        VALUES (${instanceId}, ${group}, ${host}, ${process.pid}, ${options.metricsPort ?? null}, now(), now())`);
      timer = setInterval(() => void heartbeat(), options.intervalMs ?? HEARTBEAT_INTERVAL_MS);
      timer.unref();
    },
    assigned(memberId, assignment) {
      return attempt("recording the assignment", () => db.$executeRaw`
        UPDATE projector_instances
        SET member_id = ${memberId}, assignment = ${JSON.stringify(assignment)}::jsonb, last_heartbeat_at = now(),
          consumer_state = 'running'
        WHERE instance_id = ${instanceId}`);
    },
    revoked() {
      return attempt("recording the revocation", () => db.$executeRaw`
        UPDATE projector_instances SET assignment = '{}'::jsonb WHERE instance_id = ${instanceId}`);
    },
    crashed(error, restarts) {
      const message = error.message.slice(0, 2_000);
      return attempt("recording the crash", () => db.$executeRaw`
        UPDATE projector_instances
        SET consumer_state = 'crashed', assignment = '{}'::jsonb, last_error = ${message}, last_error_at = now(),
          restarts = ${restarts}
        WHERE instance_id = ${instanceId}`);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await attempt("deregistration", () => db.$executeRaw`
        UPDATE projector_instances SET stopped_at = now(), assignment = '{}'::jsonb WHERE instance_id = ${instanceId}`);
    },
  };
}
