/**
 * Handling a dead letter: retry (re-publish the original message, e.g. once a
 * fix is deployed) or discard. Both keep the row, marked with what was done,
 * by whom and when. The row is locked around the publish, as the command side
 * locks a stream's head around its append: two admins clicking Retry at once
 * publish once, and the second is told who was first.
 *
 * Failure window: if Kafka acknowledges the re-publish but the row's update
 * then fails to commit, the row stays open and a second retry publishes the
 * message again. A well-formed event is still applied once (the projector
 * deduplicates by event id); a still-broken one is dead-lettered twice.
 */
import { inTransaction } from "@/lib/command/execute";
import { DomainError, notFound } from "@/lib/errors";
import type { Db } from "@/lib/db";
import type { Republisher } from "@/lib/kafka/republisher";
import { formatDateTime } from "@/lib/ui/format";
import { headersOf } from "../read/dead-letters";

export interface DeadLetterDeps {
  db: Db;
  republisher: Republisher;
  /** Upper bound of one publish (KAFKA_PRODUCE_TIMEOUT_MS): the lock is held that long at most. */
  produceTimeoutMs: number;
}

interface LockedRow {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  headers: unknown;
  status: string;
  resolved_at: Date | null;
  resolved_by: string | null;
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

async function lockOpen(tx: Tx, id: bigint): Promise<LockedRow> {
  const [row] = await tx.$queryRaw<LockedRow[]>`
    SELECT topic, partition, key, value, headers, status, resolved_at, resolved_by
    FROM dead_letters WHERE id = ${id} FOR UPDATE`;
  if (!row) throw notFound("The dead letter");
  if (row.status !== "open") {
    const when = row.resolved_at ? ` at ${formatDateTime(row.resolved_at)}` : "";
    throw new DomainError("conflict", `This dead letter was already ${row.status} by ${row.resolved_by ?? "someone"}${when}.`);
  }
  return row;
}

/** Re-publishes the message (key, value, headers) to its original topic and partition; marks the row retried. */
export async function retryDeadLetter(deps: DeadLetterDeps, id: bigint, by: string) {
  return inTransaction(
    deps.db,
    async (tx) => {
      const row = await lockOpen(tx, id);
      // The original partition, not the key's hash: the key's other events are there, and
      // another service's producer may partition differently from ours.
      let at: { partition: number; offset: string };
      try {
        at = await deps.republisher.publish(row.topic, row.partition, {
          key: row.key,
          value: row.value,
          headers: headersOf(row.headers),
        });
      } catch (error) {
        throw new DomainError(
          "unavailable",
          `Kafka did not acknowledge the re-published message, so nothing changed: ${(error as Error).message}`,
        );
      }
      await tx.$executeRaw`
        UPDATE dead_letters SET status = 'retried', resolved_at = now(), resolved_by = ${by},
          retried_partition = ${at.partition}, retried_offset = ${BigInt(at.offset)}
        WHERE id = ${id}`;
      return at;
    },
    deps.produceTimeoutMs + 5_000,
  );
}

/** Marks the row discarded: the message stays in the log and in `<topic>.dlq`, and is not projected. */
export async function discardDeadLetter(db: Db, id: bigint, by: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await lockOpen(tx, id);
    await tx.$executeRaw`
      UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolved_by = ${by} WHERE id = ${id}`;
  });
}
