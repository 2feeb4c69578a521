/**
 * Each projector process registers itself in `projector_instances`, heartbeats
 * every few seconds and records the partitions Kafka assigned it, so the
 * health page can show who is alive and who holds what. Best effort: a failed
 * heartbeat (PostgreSQL briefly down) is logged and the next one tries again;
 * it never stops projection.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "@/lib/db";
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
  /** Marks the instance stopped and ends the heartbeat. */
  stop(): Promise<void>;
}

export function createInstanceRegistry(options: {
  db: Db;
  group: string;
  logger: Logger;
  metricsPort?: number | null;
  intervalMs?: number;
}): InstanceRegistry {
  const { db, group, logger } = options;
  const host = hostname();
  const instanceId = `${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
  let timer: NodeJS.Timeout | null = null;

  // Writes run one after another, so a revocation never lands after the assignment that followed it.
  let tail: Promise<void> = Promise.resolve();
  const attempt = (what: string, work: () => Promise<unknown>) => {
    tail = tail.then(async () => {
      try {
        await work();
      } catch (error) {
        logger.warn({ err: error, instanceId }, `projector instance: ${what} failed`);
      }
    });
    return tail;
  };

  const heartbeat = () =>
    attempt("heartbeat", async () => {
      await db.$executeRaw`
        UPDATE projector_instances SET last_heartbeat_at = now() WHERE instance_id = ${instanceId}`;
      await db.$executeRaw`
        DELETE FROM projector_instances
        WHERE consumer_group = ${group} AND last_heartbeat_at < now() - ${FORGET_AFTER}::interval`;
    });

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
        SET member_id = ${memberId}, assignment = ${JSON.stringify(assignment)}::jsonb, last_heartbeat_at = now()
        WHERE instance_id = ${instanceId}`);
    },
    revoked() {
      return attempt("recording the revocation", () => db.$executeRaw`
        UPDATE projector_instances SET assignment = '{}'::jsonb WHERE instance_id = ${instanceId}`);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await attempt("deregistration", () => db.$executeRaw`
        UPDATE projector_instances SET stopped_at = now(), assignment = '{}'::jsonb WHERE instance_id = ${instanceId}`);
    },
  };
}
