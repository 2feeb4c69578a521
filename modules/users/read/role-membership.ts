/**
 * Access review (server only): who held a role when, from the intervals the
 * users projection keeps (role_membership_intervals, one row per uninterrupted
 * holding, [from_at, until_at)). A user holds a role at instant t when
 * from_at <= t < until_at (or until_at is null); they held it "in the period
 * [from, to]" when that is true at some instant of it.
 *
 * Cost: every query walks the role's index (role_id, from_at, …) or
 * (role_id, until_at) and never the other roles' rows (bench: "access review").
 * Emails come from `users` (joined, never copied), so they read as they are now.
 * Role names: the page and the API name a role as it is now (`roles.name`);
 * the roles a user held at an instant also carry the name the role had at that
 * instant (its last RoleCreated/RoleUpdated with a name before it).
 */
import { z } from "zod";
import { Prisma } from "@/generated/prisma/client";
import { parseInput } from "@/lib/command/validate";
import type { Db } from "@/lib/db";
import type { MembershipEndReason } from "../projections/membership-intervals";
import { COUNT_CAP } from "./list-users";

/** Who granted or removed a role: a user (with their email as it is now) or a service. */
export type MembershipActor = { kind: "user"; userId: string; email: string | null } | { kind: "service"; name: string };

export interface MemberInterval {
  grantEventId: string;
  userId: string;
  email: string;
  userDeleted: boolean;
  /** ISO-8601. */
  heldFrom: string;
  /** ISO-8601; null while still held. */
  heldUntil: string | null;
  grantSequence: number;
  revokeSequence: number | null;
  grantedBy: MembershipActor | null;
  removedBy: MembershipActor | null;
  endReason: MembershipEndReason | null;
}

export interface MembersPage {
  members: MemberInterval[];
  /** Intervals of the role that overlap the period (a user who left and came back counts twice), at most COUNT_CAP. */
  total: number;
  /** True when more than COUNT_CAP intervals overlap it: show "more than …" (the chart has the counts). */
  isTotalCapped: boolean;
  nextCursor: string | null;
}

export interface CountPoint {
  at: string;
  count: number;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** A date and time: ISO-8601, or a datetime-local value (read as UTC, like every time the console shows). */
export const instantSchema = (label: string) =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .min(1, { error: `${label} is required.`, abort: true })
    .regex(INSTANT, `${label} must be a date and time such as 2026-01-31T09:00 (UTC) or 2026-01-31T09:00:00+02:00.`)
    .transform((s) => new Date(/(Z|[+-]\d{2}:\d{2})$/.test(s) ? s : `${s}Z`))
    .refine((d) => !Number.isNaN(d.getTime()), `${label} is not a real date.`);

export const accessReviewQuerySchema = z
  .object({
    roleId: z.uuid("Choose a role."),
    from: instantSchema("From"),
    to: instantSchema("To"),
  })
  // Zod runs an object's refinement even when a field failed (its transform then never ran): the
  // comparison is only made between two dates, and a missing or malformed one keeps its own message.
  .refine((q) => !(q.from instanceof Date && q.to instanceof Date) || q.from.getTime() <= q.to.getTime(), {
    path: ["to"],
    message: "To must not be before From.",
  });
export type AccessReviewQuery = z.infer<typeof accessReviewQuerySchema>;

/** Throws a validation DomainError naming each bad field. */
export const parseAccessReviewQuery = (input: Record<string, unknown>) => parseInput(accessReviewQuerySchema, input);

interface IntervalRow {
  grant_event_id: string;
  user_id: string;
  email: string | null;
  user_deleted: boolean | null;
  from_at: Date;
  until_at: Date | null;
  grant_sequence: number;
  revoke_sequence: number | null;
  granted_by_user_id: string | null;
  granted_by_email: string | null;
  granted_by_service: string | null;
  removed_by_user_id: string | null;
  removed_by_email: string | null;
  removed_by_service: string | null;
  end_reason: MembershipEndReason | null;
}

const actorOf = (userId: string | null, email: string | null, service: string | null): MembershipActor | null =>
  userId ? { kind: "user", userId, email } : service ? { kind: "service", name: service } : null;

function toMember(r: IntervalRow): MemberInterval {
  return {
    grantEventId: r.grant_event_id,
    userId: r.user_id,
    email: r.email ?? `user ${r.user_id.slice(0, 8)}`,
    userDeleted: r.user_deleted ?? false,
    heldFrom: r.from_at.toISOString(),
    heldUntil: r.until_at?.toISOString() ?? null,
    grantSequence: r.grant_sequence,
    revokeSequence: r.revoke_sequence,
    grantedBy: actorOf(r.granted_by_user_id, r.granted_by_email, r.granted_by_service),
    removedBy: actorOf(r.removed_by_user_id, r.removed_by_email, r.removed_by_service),
    endReason: r.end_reason,
  };
}

const SELECT_INTERVAL = Prisma.sql`
  SELECT i.grant_event_id::text, i.user_id::text, u.email, u.is_deleted AS user_deleted, i.from_at, i.until_at,
    i.grant_sequence, i.revoke_sequence, i.granted_by_user_id::text, gu.email AS granted_by_email, i.granted_by_service,
    i.removed_by_user_id::text, ru.email AS removed_by_email, i.removed_by_service, i.end_reason`;
const JOIN_USERS = Prisma.sql`
  LEFT JOIN users u ON u.id = i.user_id
  LEFT JOIN users gu ON gu.id = i.granted_by_user_id
  LEFT JOIN users ru ON ru.id = i.removed_by_user_id`;

/** Overlaps [from, to]: held at some instant of it (an empty interval, from = until, never is). */
const overlaps = (q: AccessReviewQuery) => Prisma.sql`
  i.role_id = ${q.roleId}::uuid AND i.from_at <= ${q.to.toISOString()}::timestamptz
  AND (i.until_at IS NULL OR (i.until_at > ${q.from.toISOString()}::timestamptz AND i.until_at > i.from_at))`;

export const MEMBERS_PAGE_SIZE = 50;

/** The role's members in the period: one row per interval, by the time they got the role; keyset pages. */
export async function listMembersInPeriod(
  db: Db,
  q: AccessReviewQuery,
  { cursor = null, limit = MEMBERS_PAGE_SIZE, withTotal = true }: { cursor?: string | null; limit?: number; withTotal?: boolean } = {},
): Promise<MembersPage> {
  const take = Math.min(Math.max(limit, 1), 1000) + 1;
  const after = decodeCursor(cursor);
  const keyset = after
    ? Prisma.sql`AND i.from_at >= ${after.at}::timestamptz
        AND (i.from_at > ${after.at}::timestamptz OR i.grant_event_id > ${after.id}::uuid)`
    : Prisma.empty;
  const [rows, counted] = await Promise.all([
    db.$queryRaw<IntervalRow[]>`${SELECT_INTERVAL}
      FROM (SELECT * FROM role_membership_intervals i WHERE ${overlaps(q)} ${keyset}
            ORDER BY i.from_at, i.grant_event_id LIMIT ${take}) i
      ${JOIN_USERS}
      ORDER BY i.from_at, i.grant_event_id`,
    // Counting is O(overlapping rows), so, like the users list, it stops past COUNT_CAP.
    withTotal
      ? db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM (SELECT 1 FROM role_membership_intervals i
          WHERE ${overlaps(q)} LIMIT ${COUNT_CAP + 1}) overlapping`.then((r) => Number(r[0]?.n ?? 0))
      : Promise.resolve(0),
  ]);
  const page = rows.slice(0, take - 1);
  const last = page.at(-1);
  return {
    members: page.map(toMember),
    total: Math.min(counted, COUNT_CAP),
    isTotalCapped: counted > COUNT_CAP,
    nextCursor: rows.length === take && last ? encodeCursor(last.from_at, last.grant_event_id) : null,
  };
}

/** Every interval of the period, in pages (for CSV of any length). */
export async function* streamMembersInPeriod(db: Db, q: AccessReviewQuery, batchSize = 1000): AsyncGenerator<MemberInterval> {
  let cursor: string | null = null;
  do {
    const page: MembersPage = await listMembersInPeriod(db, q, { cursor, limit: batchSize, withTotal: false });
    yield* page.members;
    cursor = page.nextCursor;
  } while (cursor);
}

export const COUNT_POINTS = 48;

/**
 * The number of members at `points + 1` evenly spaced instants from `from` to `to` (both included):
 * the count at `from`, then what joined and left up to each instant. Two range scans of the role's
 * index and one count, however many points.
 */
export async function memberCountSeries(db: Db, q: AccessReviewQuery, points = COUNT_POINTS): Promise<CountPoint[]> {
  const fromMs = q.from.getTime();
  const span = q.to.getTime() - fromMs;
  const n = span === 0 ? 0 : Math.max(1, Math.min(points, span));
  const step = n === 0 ? 1 : Math.ceil(span / n);
  const F = q.from.toISOString();
  const T = q.to.toISOString();
  // k = the first point at or after the instant: ceil((instant - from) / step), in whole milliseconds.
  const bucket = (column: Prisma.Sql) =>
    Prisma.sql`ceil((extract(epoch FROM ${column}) * 1000 - ${fromMs}::numeric) / ${step}::numeric)::int`;
  const [base, deltas] = await Promise.all([
    db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM role_membership_intervals i
      WHERE i.role_id = ${q.roleId}::uuid AND i.from_at <= ${F}::timestamptz
        AND (i.until_at IS NULL OR i.until_at > ${F}::timestamptz)`,
    db.$queryRaw<{ k: number; d: bigint }[]>`
      SELECT k, sum(d) AS d FROM (
        SELECT ${bucket(Prisma.sql`i.from_at`)} AS k, 1 AS d FROM role_membership_intervals i
        WHERE i.role_id = ${q.roleId}::uuid AND i.from_at > ${F}::timestamptz AND i.from_at <= ${T}::timestamptz
        UNION ALL
        SELECT ${bucket(Prisma.sql`i.until_at`)}, -1 FROM role_membership_intervals i
        WHERE i.role_id = ${q.roleId}::uuid AND i.until_at > ${F}::timestamptz AND i.until_at <= ${T}::timestamptz
      ) x GROUP BY k`,
  ]);
  const byPoint = new Map(deltas.map((r) => [Number(r.k), Number(r.d)]));
  let count = Number(base[0]?.n ?? 0);
  const series: CountPoint[] = [];
  for (let i = 0; i <= n; i++) {
    count += byPoint.get(i) ?? 0;
    series.push({ at: new Date(Math.min(fromMs + i * step, q.to.getTime())).toISOString(), count });
  }
  return series;
}

export interface HeldRole {
  roleId: string;
  /** The role's name now (null if the role is not in the read model yet). */
  name: string | null;
  /** The role's name at the instant asked about (falls back to the name the grant carried). */
  nameAt: string;
  roleDeleted: boolean;
  heldFrom: string;
  heldUntil: string | null;
  grantEventId: string;
  grantedBy: MembershipActor | null;
}

/** The roles a user held at `at`, by name at that instant. */
export async function rolesHeldAt(db: Db, userId: string, at: Date): Promise<HeldRole[]> {
  const t = at.toISOString();
  const rows = await db.$queryRaw<
    (IntervalRow & { role_id: string; role_name: string; name: string | null; role_deleted: boolean | null; name_at: string | null })[]
  >`${SELECT_INTERVAL}, i.role_id::text, i.role_name, r.name, r.is_deleted AS role_deleted,
      (SELECT e.payload->>'name' FROM role_events e
       WHERE e.role_id = i.role_id AND e.occurred_at <= ${t}::timestamptz AND e.payload ? 'name'
       ORDER BY e.sequence DESC LIMIT 1) AS name_at
    FROM role_membership_intervals i ${JOIN_USERS}
    LEFT JOIN roles r ON r.id = i.role_id
    WHERE i.user_id = ${userId}::uuid AND i.from_at <= ${t}::timestamptz AND (i.until_at IS NULL OR i.until_at > ${t}::timestamptz)
    ORDER BY i.from_at, i.grant_event_id`;
  return rows.map((r) => ({
    roleId: r.role_id,
    name: r.name,
    nameAt: r.name_at ?? r.role_name,
    roleDeleted: r.role_deleted ?? false,
    heldFrom: r.from_at.toISOString(),
    heldUntil: r.until_at?.toISOString() ?? null,
    grantEventId: r.grant_event_id,
    grantedBy: actorOf(r.granted_by_user_id, r.granted_by_email, r.granted_by_service),
  }));
}

export interface MembershipChange {
  kind: "joined" | "left";
  at: string;
  userId: string;
  email: string;
  /** The event in the user's timeline (its sequence). */
  sequence: number;
  actor: MembershipActor | null;
  endReason: MembershipEndReason | null;
}

/** The role's latest joins and leaves, newest first (each side walks its own index backwards). */
export async function latestMembershipChanges(db: Db, roleId: string, limit = 20): Promise<MembershipChange[]> {
  const rows = await db.$queryRaw<
    { kind: "joined" | "left"; at: Date; user_id: string; email: string | null; seq: number; actor_user_id: string | null; actor_email: string | null; actor_service: string | null; end_reason: MembershipEndReason | null }[]
  >`
    SELECT c.kind, c.at, c.user_id::text, u.email, c.seq, c.actor_user_id::text, au.email AS actor_email, c.actor_service, c.end_reason
    FROM (
      (SELECT 'joined' AS kind, i.from_at AS at, i.user_id, i.grant_sequence AS seq, i.granted_by_user_id AS actor_user_id,
         i.granted_by_service AS actor_service, NULL::text AS end_reason
       FROM role_membership_intervals i WHERE i.role_id = ${roleId}::uuid ORDER BY i.from_at DESC LIMIT ${limit})
      UNION ALL
      (SELECT 'left', i.until_at, i.user_id, i.revoke_sequence, i.removed_by_user_id, i.removed_by_service, i.end_reason
       FROM role_membership_intervals i WHERE i.role_id = ${roleId}::uuid AND i.until_at IS NOT NULL
       ORDER BY i.until_at DESC LIMIT ${limit})
    ) c
    LEFT JOIN users u ON u.id = c.user_id
    LEFT JOIN users au ON au.id = c.actor_user_id
    ORDER BY c.at DESC, c.kind LIMIT ${limit}`;
  return rows.map((r) => ({
    kind: r.kind,
    at: r.at.toISOString(),
    userId: r.user_id,
    email: r.email ?? `user ${r.user_id.slice(0, 8)}`,
    sequence: r.seq,
    actor: actorOf(r.actor_user_id, r.actor_email, r.actor_service),
    endReason: r.end_reason,
  }));
}

/** When the role's first member got it (null: never had one). */
export async function firstMembershipAt(db: Db, roleId: string): Promise<Date | null> {
  const rows = await db.$queryRaw<{ from_at: Date }[]>`
    SELECT i.from_at FROM role_membership_intervals i WHERE i.role_id = ${roleId}::uuid ORDER BY i.from_at LIMIT 1`;
  return rows[0]?.from_at ?? null;
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString("base64url");
}

/** A cursor that does not parse starts from the first page rather than failing. */
function decodeCursor(cursor: string | null): { at: string; id: string } | null {
  if (!cursor) return null;
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const at = new Date(iso ?? "");
  if (!id || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) return null;
  return { at: at.toISOString(), id };
}

/** One line for who granted or removed a role: their email now, or "name (service)". */
export function membershipActorLabel(actor: MembershipActor | null): string {
  if (!actor) return "";
  return actor.kind === "user" ? (actor.email ?? `user ${actor.userId.slice(0, 8)}`) : `${actor.name} (service)`;
}

/** Every role the review can ask about, deleted ones too (their members are history worth reviewing). */
export function listReviewableRoles(db: Db): Promise<{ id: string; name: string; isDeleted: boolean }[]> {
  return db.role.findMany({
    orderBy: [{ isDeleted: "asc" }, { name: "asc" }, { id: "asc" }],
    select: { id: true, name: true, isDeleted: true },
  });
}

/** The access review page's URL for a query (`/access-review?role=&from=&to=`, times as typed). */
export function accessReviewHref(q: { role: string; from: string; to: string }, cursor?: string | null): string {
  const params = new URLSearchParams({ role: q.role, from: q.from, to: q.to });
  if (cursor) params.set("cursor", cursor);
  return `/access-review?${params}`;
}

export interface RoleMembershipHistory {
  series: CountPoint[];
  changes: MembershipChange[];
}

/** For a role's page: its member count from its first member until now (or its deletion), and the latest joins and leaves. */
export async function getRoleMembershipHistory(db: Db, roleId: string, until: Date): Promise<RoleMembershipHistory> {
  const [since, changes] = await Promise.all([firstMembershipAt(db, roleId), latestMembershipChanges(db, roleId)]);
  if (!since || since > until) return { series: [], changes };
  return { series: await memberCountSeries(db, { roleId, from: since, to: until }), changes };
}
