/**
 * A user's audit timeline (server only), from user_events: pages newest first,
 * keyset on sequence (index (user_id, sequence desc), or (user_id, type,
 * sequence desc) when filtered by type); the whole stream in order for export;
 * and the user's state right after any event, folded from the stream itself.
 * Everything returned is plain JSON (dates as ISO strings): it feeds route
 * handlers and client components alike.
 */
import type { Db } from "@/lib/db";
import { fieldChanges, type FieldChange } from "@/lib/events/display";
import { actorSchema, type RawEnvelope } from "@/lib/events/envelope";
import { STREAM } from "@/modules/streams";
import { userEventTypes, userPayloadSchemas, userSerde, type UserEvent, type UserEventType } from "@/modules/users/domain/events";
import { PROFILE_FIELDS, type ProfileField } from "@/modules/users/domain/profile-fields";
import { foldUser, type UserState } from "@/modules/users/domain/user-state";

export const TIMELINE_PAGE_SIZE = 20;

export type TimelineActor =
  | { kind: "user"; userId: string; email: string; name?: string }
  | { kind: "service"; name: string }
  | { kind: "unknown" };


export interface TimelineEntry {
  eventId: string;
  sequence: number;
  type: string;
  schemaVersion: number;
  /** ISO-8601. */
  occurredAt: string;
  actor: TimelineActor;
  correlationId: string;
  causationId: string | null;
  /** Profile fields before → after (UserCreated, UserUpdated). */
  changes: FieldChange[];
  /** The role as named at the time (role events). */
  roleName: string | null;
  /** RoleUnassignedFromUser: "unassigned" or "role-deleted". */
  reason: string | null;
  payload: unknown;
}

export interface TimelinePage {
  entries: TimelineEntry[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: number | null;
  /** The user's version when this page was read: a client holding an older one knows to refetch. */
  version: number;
}

export const isUserEventType = (value: unknown): value is UserEventType =>
  typeof value === "string" && (userEventTypes as readonly string[]).includes(value);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUserId = (value: string) => UUID.test(value);

type EventRow = Awaited<ReturnType<typeof readRows>>[number];

/** The columns of user_events a timeline entry is made of. */
const TIMELINE_COLUMNS = {
  eventId: true,
  sequence: true,
  type: true,
  schemaVersion: true,
  occurredAt: true,
  actor: true,
  correlationId: true,
  causationId: true,
  payload: true,
  changes: true,
} as const;

function readRows(db: Db, userId: string, where: { type?: string; before?: number; after?: number }, take: number, order: "asc" | "desc") {
  return db.userEvent.findMany({
    where: {
      userId,
      ...(where.type ? { type: where.type } : {}),
      ...(where.before !== undefined ? { sequence: { lt: where.before } } : {}),
      ...(where.after !== undefined ? { sequence: { gt: where.after } } : {}),
    },
    orderBy: { sequence: order },
    take,
    select: TIMELINE_COLUMNS,
  });
}

/** One page of the timeline, newest first; null when there is no such user. */
export async function getTimelinePage(
  db: Db,
  userId: string,
  options: { type?: UserEventType | null; before?: number | null; limit?: number } = {},
): Promise<TimelinePage | null> {
  if (!isUserId(userId)) return null;
  const limit = Math.min(Math.max(options.limit ?? TIMELINE_PAGE_SIZE, 1), 200);
  const [user, rows] = await Promise.all([
    db.user.findUnique({ where: { id: userId }, select: { version: true } }),
    readRows(
      db,
      userId,
      { type: options.type ?? undefined, before: options.before ?? undefined },
      limit + 1,
      "desc",
    ),
  ]);
  if (!user) return null;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    entries: page.map(toEntry),
    nextBefore: rows.length > limit && last ? last.sequence : null,
    version: user.version,
  };
}

/** Every event of the user, oldest first, read in batches (for exports of any length). */
export async function* streamTimeline(db: Db, userId: string, batchSize = 500): AsyncGenerator<TimelineEntry> {
  if (!isUserId(userId)) return;
  let after = 0;
  for (;;) {
    const rows = await readRows(db, userId, { after }, batchSize, "asc");
    for (const row of rows) yield toEntry(row);
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) return;
    after = last.sequence;
  }
}

export interface StateAt {
  sequence: number;
  /** Null if the stream up to `sequence` does not fold (it always should). */
  state: UserState | null;
}

/**
 * The user's full state right after event `sequence`: the fold of the user's
 * own events 1…sequence with the domain's `foldUser`, rebuilt from the
 * timeline rows (upcast like the projector does), never from a snapshot.
 */
export async function getStateAt(db: Db, userId: string, sequence: number): Promise<StateAt | null> {
  if (!isUserId(userId) || !Number.isInteger(sequence) || sequence < 1) return null;
  const events: UserEvent[] = [];
  let after = 0;
  for (;;) {
    const rows = await db.userEvent.findMany({
      where: { userId, sequence: { gt: after, lte: sequence } },
      orderBy: { sequence: "asc" },
      take: 1000,
    });
    for (const row of rows) events.push(toDomainEvent(row));
    const last = rows.at(-1);
    if (!last || rows.length < 1000) break;
    after = last.sequence;
  }
  if (events.length === 0) return null;
  return { sequence: events.at(-1)!.sequence, state: foldUser(events) };
}

function toDomainEvent(row: {
  eventId: string;
  userId: string;
  sequence: number;
  type: string;
  schemaVersion: number;
  occurredAt: Date;
  actor: unknown;
  correlationId: string;
  causationId: string | null;
  payload: unknown;
}): UserEvent {
  const envelope: RawEnvelope = {
    id: row.eventId,
    type: row.type,
    schemaVersion: row.schemaVersion,
    aggregateId: row.userId,
    sequence: row.sequence,
    occurredAt: row.occurredAt.toISOString(),
    actor: actorSchema.parse(row.actor),
    correlationId: row.correlationId,
    causationId: row.causationId,
    payload: row.payload,
  };
  // The one serde: upcast and validate exactly as the projector does.
  const read = userSerde.read(envelope, STREAM.users.name);
  if (!read.ok) throw new Error(`user ${row.userId}, event ${row.sequence}: ${read.reason}`);
  return read.event;
}

function toEntry(row: EventRow): TimelineEntry {
  const actor = actorSchema.safeParse(row.actor);
  return {
    eventId: row.eventId,
    sequence: row.sequence,
    type: row.type,
    schemaVersion: row.schemaVersion,
    occurredAt: row.occurredAt.toISOString(),
    actor: actor.success ? actor.data : { kind: "unknown" },
    correlationId: row.correlationId,
    causationId: row.causationId,
    changes: fieldChanges(row.changes),
    ...roleOf(row.type, row.payload),
    payload: row.payload,
  };
}


function roleOf(type: string, payload: unknown): { roleName: string | null; reason: string | null } {
  if (type === "RoleAssignedToUser") {
    const p = userPayloadSchemas.RoleAssignedToUser.safeParse(payload);
    if (p.success) return { roleName: p.data.roleName, reason: null };
  }
  if (type === "RoleUnassignedFromUser") {
    const p = userPayloadSchemas.RoleUnassignedFromUser.safeParse(payload);
    if (p.success) return { roleName: p.data.roleName, reason: p.data.reason };
  }
  return { roleName: null, reason: null };
}


export interface FieldValue {
  value: string | null;
  sequence: number;
  eventId: string;
  occurredAt: string;
  actor: TimelineActor;
}

export type FieldHistories = Record<ProfileField, FieldValue[]>;

/** Every value each profile field has had, newest first, from timeline entries (any order). Pure. */
export function fieldHistories(entries: readonly TimelineEntry[]): FieldHistories {
  const out = Object.fromEntries(PROFILE_FIELDS.map(({ field }) => [field, [] as FieldValue[]])) as FieldHistories;
  for (const e of [...entries].sort((a, b) => b.sequence - a.sequence)) {
    for (const change of e.changes) {
      const list = out[change.field as ProfileField];
      list?.push({ value: change.after, sequence: e.sequence, eventId: e.eventId, occurredAt: e.occurredAt, actor: e.actor });
    }
  }
  return out;
}

export const FIELD_HISTORY_LIMIT = 500;

/** The profile fields' histories from the user's UserCreated and UserUpdated events (the newest 500 of them). */
export async function getFieldHistories(db: Db, userId: string): Promise<FieldHistories | null> {
  if (!isUserId(userId)) return null;
  const rows = await db.userEvent.findMany({
    where: { userId, type: { in: ["UserCreated", "UserUpdated"] } },
    orderBy: { sequence: "desc" },
    take: FIELD_HISTORY_LIMIT,
    select: TIMELINE_COLUMNS,
  });
  return fieldHistories(rows.map(toEntry));
}
