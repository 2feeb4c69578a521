/**
 * The global activity feed (server only): every event of every stream
 * (user_events UNION ALL role_events UNION ALL api_token_events), newest first, keyset-paginated on
 * (occurred_at, event_id) so a page never skips or repeats an event while new
 * ones arrive.
 *
 * Each branch is ordered and limited on its own before the merge, so each one
 * walks its (occurred_at desc) index (or (type, occurred_at desc) when
 * filtering by type) and stops after a page; a type filter skips the other
 * stream's table entirely.
 */
import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { app, streamOf } from "@/modules";
import type { StreamName } from "@/modules/streams";
import { parseActorKey } from "@/lib/events/actor-filter";
import { parseLocalDateTime, type ActivityFilters } from "./activity-filters";
import { describeActor, type ActorLabel, type EventSummary, type FieldChange } from "@/lib/events/display";
import { readChanges, summarizeEvent } from "./describe-event";

export type SubjectKind = "user" | "role" | "token";

/**
 * What each stream's events are about, and where that is shown. An API token
 * has no page of its own: its events carry its name, and link to the tokens page.
 */
const SUBJECTS: Record<StreamName, { kind: SubjectKind; href: (id: string) => string }> = {
  users: { kind: "user", href: (id) => `/users/${id}` },
  roles: { kind: "role", href: (id) => `/roles/${id}` },
  "api-tokens": { kind: "token", href: () => "/tokens" },
};

export interface ActivityEntry extends ActorLabel {
  eventId: string;
  stream: StreamName;
  type: string;
  sequence: number;
  occurredAt: Date;
  subject: { kind: SubjectKind; id: string; href: string; label: string; isDeleted: boolean };
  summary: EventSummary;
  changes: FieldChange[];
}

export interface ActivityPage {
  entries: ActivityEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

interface Row {
  stream: StreamName;
  event_id: string;
  subject_id: string;
  sequence: number;
  type: string;
  occurred_at: Date;
  actor: unknown;
  payload: unknown;
  changes: unknown;
  subject_label: string | null;
  subject_deleted: boolean | null;
}

/** Each stream's timeline table and its aggregate column, as its module declares them. */
const BRANCHES = new Map(
  app.modules.map((m) => {
    const { table, idColumn } = m.projection.timeline;
    return [m.stream.name, { table: Prisma.raw(`"${table}"`), id: Prisma.raw(`"${idColumn}"`) }] as const;
  }),
);

export async function listActivity(
  db: Db,
  filters: Omit<ActivityFilters, "cursor" | "by"> & { cursor?: string | null; by?: string | null },
  { limit = 50 } = {},
): Promise<ActivityPage> {
  const take = Math.min(Math.max(limit, 1), 200) + 1;
  const after = decodeCursor(filters.cursor);
  const from = parseLocalDateTime(filters.from);
  const to = parseLocalDateTime(filters.to);
  // A minute-precision "to" (what datetime-local sends) covers its whole minute.
  const toBound = to && (filters.to?.length ?? 0) <= 16 ? new Date(to.getTime() + 60_000) : to;
  const toOp = toBound === to ? Prisma.raw("<=") : Prisma.raw("<");

  const where: Prisma.Sql[] = [];
  if (filters.type) where.push(Prisma.sql`e.type = ${filters.type}`);
  if (filters.actor) {
    const prefix = `${escapeLike(filters.actor.toLowerCase())}%`;
    where.push(Prisma.sql`(
      (e.actor->>'kind' = 'service' AND lower(e.actor->>'name') LIKE ${prefix})
      OR (e.actor->>'kind' = 'user' AND lower(e.actor->>'email') LIKE ${prefix}))`);
  }
  const by = parseActorKey(filters.by);
  // Served by the timeline tables' (actor's user id, occurred_at) indexes; services are few and busy.
  if (by?.kind === "user") where.push(Prisma.sql`e.actor->>'userId' = ${by.userId}`);
  if (by?.kind === "service") where.push(Prisma.sql`e.actor->>'kind' = 'service' AND e.actor->>'name' = ${by.name}`);
  if (from) where.push(Prisma.sql`e.occurred_at >= ${from.toISOString()}::timestamptz`);
  if (toBound) where.push(Prisma.sql`e.occurred_at ${toOp} ${toBound.toISOString()}::timestamptz`);
  if (after) {
    // Spelled out (not a row comparison) so the (occurred_at) indexes serve it.
    const at = after.occurredAt.toISOString();
    where.push(Prisma.sql`e.occurred_at <= ${at}::timestamptz
      AND (e.occurred_at < ${at}::timestamptz OR e.event_id < ${after.id}::uuid)`);
  }
  const whereSql = where.length ? Prisma.sql`WHERE ${Prisma.join(where, " AND ")}` : Prisma.empty;

  const streams = filters.type ? [streamOf(filters.type)] : app.streams;
  const branches = streams.map((stream) => {
    const { table, id } = BRANCHES.get(stream)!;
    return Prisma.sql`(
      SELECT ${stream}::text AS stream, e.event_id, e.${id} AS subject_id, e.sequence, e.type,
             e.occurred_at, e.actor, e.payload, e.changes
      FROM ${table} e ${whereSql}
      ORDER BY e.occurred_at DESC, e.event_id DESC
      LIMIT ${take})`;
  });

  const rows = await db.$queryRaw<Row[]>`
    SELECT f.stream, f.event_id::text AS event_id, f.subject_id::text AS subject_id, f.sequence, f.type,
           f.occurred_at, f.actor, f.payload, f.changes,
           COALESCE(u.email, r.name, CASE WHEN f.stream = 'api-tokens' THEN f.payload->>'name' END) AS subject_label,
           COALESCE(u.is_deleted, r.is_deleted) AS subject_deleted
    FROM (${Prisma.join(branches, " UNION ALL ")}) f
    LEFT JOIN users u ON f.stream = 'users' AND u.id = f.subject_id
    LEFT JOIN roles r ON f.stream = 'roles' AND r.id = f.subject_id
    ORDER BY f.occurred_at DESC, f.event_id DESC
    LIMIT ${take}`;

  const page = rows.slice(0, take - 1);
  const last = page.at(-1);
  return {
    entries: page.map(toEntry),
    nextCursor: rows.length === take && last ? encodeCursor(last.occurred_at, last.event_id) : null,
  };
}

function toEntry(row: Row): ActivityEntry {
  const { kind, href } = SUBJECTS[row.stream];
  return {
    eventId: row.event_id,
    stream: row.stream,
    type: row.type,
    sequence: Number(row.sequence),
    occurredAt: new Date(row.occurred_at),
    ...describeActor(row.actor),
    subject: {
      kind,
      id: row.subject_id,
      href: href(row.subject_id),
      label: row.subject_label ?? `${kind} ${row.subject_id.slice(0, 8)}`,
      isDeleted: row.subject_deleted ?? false,
    },
    summary: summarizeEvent(row.type, row.payload),
    changes: readChanges(row.type, row.changes),
  };
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function encodeCursor(occurredAt: Date, id: string): string {
  return Buffer.from(`${new Date(occurredAt).toISOString()}|${id}`).toString("base64url");
}

/** A cursor that does not parse is treated as "from the newest", not as an error. */
function decodeCursor(cursor: string | null | undefined): { occurredAt: Date; id: string } | null {
  if (!cursor) return null;
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const occurredAt = new Date(iso ?? "");
  if (!id || Number.isNaN(occurredAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) return null;
  return { occurredAt, id };
}
