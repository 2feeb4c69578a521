/**
 * The last failure of a consumer group on a partition (`consumer_partition_errors`):
 * a batch that threw (PostgreSQL down, a bug), a send a notifier keeps retrying.
 * The health page shows it beside a stalled partition, so "stalled" always comes
 * with a why. A row lives until the partition moves past it.
 *
 * Writes are best effort and bounded in time: the database may be the very thing
 * that failed, and recording a failure must never become a second one.
 */
import { DatabaseError } from "pg";
import type { Db } from "@/lib/db";
import type { Logger } from "@/lib/log";
import { withTimeout } from "@/lib/timeout";

const WRITE_TIMEOUT_MS = 3_000;

export interface PartitionErrors {
  /** Records (or counts once more) a failure at `offset`. Never throws. */
  failed(topic: string, partition: number, offset: string | null, error: unknown): Promise<void>;
  /** The partition made progress: forget its failure, if one was recorded. Never throws. */
  progressed(topic: string, partition: number): Promise<void>;
  /** Learns which of `assignment`'s partitions have a failure recorded (by any instance before). */
  load(assignment: Record<string, number[]>): Promise<void>;
}

export function partitionErrors(db: Db, group: string, logger: Logger): PartitionErrors {
  /** Partitions with a row (as far as this process knows): only they cost a DELETE on progress. */
  const recorded = new Set<string>();
  const key = (topic: string, partition: number) => `${topic}/${partition}`;

  const bounded = async (what: string, work: Promise<unknown>) => {
    try {
      await withTimeout(work, WRITE_TIMEOUT_MS);
      return true;
    } catch (error) {
      logger.warn({ err: error, group }, `could not record ${what}`);
      return false;
    }
  };

  return {
    async failed(topic, partition, offset, error) {
      const message = describeFailure(error).slice(0, 2_000);
      recorded.add(key(topic, partition));
      await bounded(
        "a partition failure",
        db.$executeRaw`
          INSERT INTO consumer_partition_errors (consumer_group, topic, partition, "offset", error)
          VALUES (${group}, ${topic}, ${partition}, ${offset === null ? null : BigInt(offset)}, ${message})
          ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET
            error = excluded.error, last_failed_at = now(),
            attempts = CASE WHEN consumer_partition_errors."offset" IS NOT DISTINCT FROM excluded."offset"
              THEN consumer_partition_errors.attempts + 1 ELSE 1 END,
            first_failed_at = CASE WHEN consumer_partition_errors."offset" IS NOT DISTINCT FROM excluded."offset"
              THEN consumer_partition_errors.first_failed_at ELSE now() END,
            "offset" = excluded."offset"`,
      );
    },
    async progressed(topic, partition) {
      if (!recorded.has(key(topic, partition))) return;
      const done = await bounded(
        "a partition's recovery",
        db.$executeRaw`
          DELETE FROM consumer_partition_errors WHERE consumer_group = ${group} AND topic = ${topic} AND partition = ${partition}`,
      );
      if (done) recorded.delete(key(topic, partition));
    },
    async load(assignment) {
      const topics = Object.keys(assignment);
      if (topics.length === 0) return;
      try {
        const rows = await db.$queryRaw<{ topic: string; partition: number }[]>`
          SELECT topic, partition FROM consumer_partition_errors WHERE consumer_group = ${group} AND topic = ANY(${topics})`;
        for (const r of rows) if (assignment[r.topic]?.includes(r.partition)) recorded.add(key(r.topic, r.partition));
      } catch (error) {
        logger.warn({ err: error, group }, "could not read recorded partition failures");
      }
    },
  };
}

/**
 * One line an operator can read: PostgreSQL's own code and message where the error carries them
 * (node-postgres as fields; Prisma wrapped in several lines of invocation text), else the error's
 * name and message.
 */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof DatabaseError && error.code) return `PostgreSQL ${error.code}: ${text}`;
  const pg = /Code: `(\w+)`\. Message: `([^`]*)`/.exec(text);
  if (pg) return `PostgreSQL ${pg[1]}: ${pg[2]}`;
  const oneLine = text.replace(/\s+/g, " ").trim();
  return error instanceof Error ? `${error.name}: ${oneLine}` : oneLine;
}
