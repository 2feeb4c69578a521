/**
 * What applying an erasure does to the read model, so that it then equals a
 * rebuild from the log once the person's key is gone (every table equal):
 *
 * - their actor fields in every timeline read ERASED;
 * - their own aggregate is projected again from its timeline rows, with their
 *   personal fields ERASED, through the module's own projection: the state,
 *   the rows and each row's changes come out exactly as a replay computes them.
 *
 * It runs in the batch's transaction, after the batch is saved. The cost grows
 * with what the person did: the actor rewrite finds their rows through the
 * timelines' indexes on the actor's user id where a table has one (README,
 * Failure windows).
 */
import { Prisma } from "@/generated/prisma/client";
import type { BatchTx } from "@/lib/sql-tx";
import type { Composition } from "@/lib/module";
import { CannotApplyEventError, envelopeOfRow, type StoredTimelineRow, type TimelineRow } from "@/lib/projection/timeline";
import { ERASED, eraseSubject } from "./personal-data";

const identifier = (name: string) => Prisma.raw(`"${name.replaceAll('"', '""')}"`);

interface StoredRow extends StoredTimelineRow {
  topic: string;
  partition: number;
  offset: bigint;
  clear_subjects: string[] | null;
}

export async function scrubErasedPerson(
  tx: BatchTx,
  app: Pick<Composition, "modules" | "registry" | "serde" | "projectionOf">,
  stream: string,
  subject: string,
  options: { rebuild: boolean },
): Promise<void> {
  const erased = JSON.stringify(ERASED);
  // The actor rewrite touches every row the person acted on (an administrator's: millions): it may
  // take longer than a live batch's statement bound, and failing it would retry forever. Unbounded
  // for the rest of this transaction.
  await tx.$queryRaw`SELECT set_config('statement_timeout', '0', true)`;
  for (const m of app.modules) {
    await tx.$executeRaw`
      UPDATE ${identifier(m.projection.timeline.table)}
      SET actor = actor || jsonb_build_object('email', ${erased}::jsonb)
        || CASE WHEN actor ? 'name' THEN jsonb_build_object('name', ${erased}::jsonb) ELSE '{}'::jsonb END
      WHERE actor->>'kind' = 'user' AND actor->>'userId' = ${subject}
        AND (actor->>'email' IS DISTINCT FROM ${ERASED} OR (actor ? 'name' AND actor->>'name' IS DISTINCT FROM ${ERASED}))`;
  }

  const projection = app.projectionOf(stream);
  const { table, idColumn } = projection.timeline;
  const rows = await tx.$queryRaw<StoredRow[]>`
    DELETE FROM ${identifier(table)} WHERE ${identifier(idColumn)} = ${subject}::uuid
    RETURNING event_id::text, ${identifier(idColumn)}::text AS aggregate_id, sequence, type, schema_version, occurred_at,
      actor, correlation_id, causation_id, payload, topic, partition, "offset", clear_subjects::text[]`;
  rows.sort((a, b) => a.sequence - b.sequence);
  const states = await projection.load(tx, [subject]);
  states.set(subject, null);
  const timeline: TimelineRow[] = [];
  for (const r of rows) {
    const envelope = eraseSubject(envelopeOfRow(r), app.registry[r.type]?.personal ?? [], subject);
    const read = app.serde.read(envelope, stream);
    if (!read.ok) throw new Error(`erasure of ${subject}: timeline row ${r.event_id} does not read back: ${read.reason}`);
    try {
      const row = projection.project(states, read.event, { topic: r.topic, partition: r.partition, offset: String(r.offset) });
      timeline.push({ ...row, clearSubjects: r.clear_subjects ?? [] });
    } catch (error) {
      if (error instanceof CannotApplyEventError) throw new Error(`erasure of ${subject}: ${error.message}`);
      throw error;
    }
  }
  await projection.save(tx, states, timeline, options);
}
