/**
 * What every projection shares: the position of an event in the log, the
 * timeline row each applied event becomes, its before → after field changes,
 * and the error for an event that cannot follow its aggregate's state.
 */
import { Prisma } from "@/generated/prisma/client";
import type { CopyValue } from "@/lib/copy-text";
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import type { Actor, AnyEvent } from "@/lib/events/envelope";

export interface Position {
  topic: string;
  partition: number;
  offset: string;
}

export type FieldChanges = Record<string, { before: unknown; after: unknown }>;

export interface TimelineRow extends Position {
  eventId: string;
  aggregateId: string;
  sequence: number;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  payload: unknown;
  changes: FieldChanges | null;
  /** The people whose personal data the event carries in clear in the log (lib/privacy). */
  clearSubjects?: string[];
}

/** A timeline row as SQL returns it (snake_case): the columns its event's envelope needs. */
export interface StoredTimelineRow {
  event_id: string;
  aggregate_id: string;
  sequence: number;
  type: string;
  schema_version: number;
  occurred_at: Date;
  actor: unknown;
  correlation_id: string;
  causation_id: string | null;
  payload: unknown;
}

/** The envelope of a stored timeline row (to read it back through the serde, or fold it). */
export function envelopeOfRow(r: StoredTimelineRow) {
  return {
    id: r.event_id,
    type: r.type,
    schemaVersion: r.schema_version,
    aggregateId: r.aggregate_id,
    sequence: r.sequence,
    occurredAt: r.occurred_at.toISOString(),
    actor: r.actor,
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    payload: r.payload,
  };
}

/** Thrown by `evolve` for an event that cannot follow the state: the projector dead-letters it. */
export class CannotApplyEventError extends Error {
  override readonly name = "CannotApplyEventError";
}

export function timelineRow(e: AnyEvent, position: Position, changes: FieldChanges | null): TimelineRow {
  // Position fields written out, not spread: spreading a small object first put
  // this hot function on V8's slow path (bench/PERFORMANCE.md: ~10x on the fold).
  return {
    topic: position.topic,
    partition: position.partition,
    offset: position.offset,
    eventId: e.id,
    aggregateId: e.aggregateId,
    sequence: e.sequence,
    type: e.type,
    schemaVersion: e.schemaVersion,
    occurredAt: e.occurredAt,
    actor: e.actor,
    correlationId: e.correlationId,
    causationId: e.causationId,
    payload: e.payload,
    changes,
  };
}

/** A table or column name a module declares (a constant, never input). */
const identifier = (name: string) => Prisma.raw(`"${name.replaceAll('"', '""')}"`);

/** The columns of a module's timeline table, in the order of `timelineValues`. */
export const timelineColumns = (idColumn: string) =>
  [
    "event_id",
    idColumn,
    "sequence",
    "type",
    "schema_version",
    "occurred_at",
    "actor",
    "correlation_id",
    "causation_id",
    "payload",
    "changes",
    "topic",
    "partition",
    "offset",
    "clear_subjects",
  ] as const;

/** A timeline row's values for COPY (lib/copy-text.ts), in `timelineColumns` order. */
export function timelineValues(r: TimelineRow): CopyValue[] {
  return [
    r.eventId,
    r.aggregateId,
    r.sequence,
    r.type,
    r.schemaVersion,
    r.occurredAt,
    r.actor,
    r.correlationId,
    r.causationId,
    r.payload as CopyValue,
    r.changes,
    r.topic,
    r.partition,
    r.offset,
    r.clearSubjects ?? [],
  ];
}

/**
 * Appends timeline rows to a module's timeline table, with COPY. The batch has dropped every
 * event id already in the table (`inTimeline`) or twice in itself, under its partition's
 * position lock; an event id can then only collide with the same id applied at the same moment
 * on another partition (a producer reusing ids across aggregates). That fails the batch, which
 * is retried, finds the id applied, and skips it.
 */
export async function insertTimeline(tx: BatchTx, timeline: { table: string; idColumn: string }, rows: TimelineRow[]) {
  if (rows.length === 0) return;
  await tx.copyRows(timeline.table, timelineColumns(timeline.idColumn), rows.map(timelineValues));
}

/** The event ids of `ids` already in a timeline table: applied before, so skipped. */
export async function inTimeline(tx: SqlTx, timeline: { table: string }, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT event_id::text AS id FROM ${identifier(timeline.table)} WHERE event_id = ANY(${ids}::uuid[])`;
  return new Set(rows.map((r) => r.id));
}

/**
 * The command side advances streams.version in the same transaction as its
 * append, so normally this changes nothing. It catches the head up when the log
 * is ahead of it: an event from another service, or an append acknowledged by
 * the broker whose PostgreSQL commit then failed.
 *
 * A head already at (or past) the state's version is left alone without being
 * touched: `ON CONFLICT DO UPDATE … WHERE` locks the conflicting row even when
 * its WHERE is false, so the batch used to wait for any command holding that
 * user's head (one waiting for the broker's ack) and to hold every head of its
 * users until its commit. Heads only move forward, so a head seen at or past the
 * version needs nothing; one that moves meanwhile is settled by the upsert's
 * own check under its lock.
 */
export function repairStreamHeads(tx: BatchTx, headType: string, states: ReadonlyArray<{ id: string; version: number }>): void {
  // Nothing waits for it: it rides with the batch's next statement or its COMMIT (lib/sql-tx.ts, defer).
  tx.defer`
    INSERT INTO streams (id, type, version, state, updated_at)
    SELECT s.id, ${headType}, s.version, s.value, now()
    FROM (SELECT (e.value->>'id')::uuid AS id, (e.value->>'version')::int AS version, e.value
          FROM jsonb_array_elements(${JSON.stringify(states)}::jsonb) AS e(value)) s
    WHERE NOT EXISTS (SELECT 1 FROM streams h WHERE h.id = s.id AND h.version >= s.version)
    ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = now()
    WHERE streams.version < excluded.version`;
}
