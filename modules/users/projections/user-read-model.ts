/**
 * The users read model's I/O for the projector: load the touched users (with
 * their roles) locked for the batch, then write their rows, the memberships
 * the batch changed, the timeline and the command side's heads.
 */
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import { insertTimeline, repairStreamHeads, type TimelineRow } from "@/lib/projection/timeline";
import { STREAM } from "@/modules/streams";
import type { UserState } from "../domain/user-state";
import { saveMembershipIntervals } from "./membership-read-model";

export const USER_TIMELINE = { table: "user_events", idColumn: "user_id" } as const;

/** `user_roles`' columns as the batches and the rebuild's bulk load COPY them (./user-bulk.ts). */
export const USER_ROLE_COLUMNS = ["user_id", "role_id", "role_name", "assigned_at"] as const;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function loadUsers(tx: SqlTx, ids: readonly string[]): Promise<Map<string, UserState | null>> {
  const unique = [...new Set(ids)];
  const states = new Map<string, UserState | null>();
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<
    {
      id: string;
      email: string;
      name: string;
      is_deleted: boolean;
      version: number;
      created_at: Date;
      updated_at: Date;
      deleted_at: Date | null;
      last_login_at: Date | null;
      erased_at: Date | null;
      roles: Record<string, string>;
    }[]
  >`
    SELECT u.id::text, u.email, u.name, u.is_deleted, u.version, u.created_at, u.updated_at, u.deleted_at, u.last_login_at, u.erased_at,
      COALESCE((SELECT jsonb_object_agg(ur.role_id::text, ur.role_name) FROM user_roles ur WHERE ur.user_id = u.id), '{}'::jsonb) AS roles
    FROM users u WHERE u.id = ANY(${unique}::uuid[]) FOR UPDATE`;
  for (const r of rows) {
    states.set(r.id, {
      id: r.id,
      email: r.email,
      name: r.name,
      isDeleted: r.is_deleted,
      version: r.version,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      deletedAt: iso(r.deleted_at),
      lastLoginAt: iso(r.last_login_at),
      erasedAt: iso(r.erased_at),
      roles: r.roles,
    });
  }
  return states;
}

export async function saveUsers(
  tx: BatchTx,
  states: Map<string, UserState | null>,
  timeline: TimelineRow[],
  { rebuild }: { rebuild: boolean },
) {
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is UserState => !!s);
  if (touched.length === 0) return;
  const json = JSON.stringify(touched);
  // Nothing reads it back in this batch: it rides with the batch's next statement (lib/sql-tx.ts, defer).
  tx.defer`
    INSERT INTO users (id, email, name, is_deleted, version, created_at, updated_at, deleted_at, last_login_at,
      erased_at, email_lower, name_lower)
    SELECT s.id, s.email, s.name, s."isDeleted", s.version, s."createdAt", s."updatedAt", s."deletedAt", s."lastLoginAt",
      s."erasedAt", lower(s.email), lower(s.name)
    FROM jsonb_to_recordset(${json}::jsonb) AS s(id uuid, email text, name text, "isDeleted" boolean, version int,
      "createdAt" timestamptz, "updatedAt" timestamptz, "deletedAt" timestamptz, "lastLoginAt" timestamptz,
      "erasedAt" timestamptz)
    ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, email_lower = excluded.email_lower,
      name_lower = excluded.name_lower, is_deleted = excluded.is_deleted,
      version = excluded.version, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at,
      last_login_at = excluded.last_login_at, erased_at = excluded.erased_at`;
  // Only the (user, role) pairs this batch assigned or unassigned change; every
  // other membership row stays as it is.
  const changed = new Map<string, { userId: string; roleId: string }>();
  for (const t of timeline) {
    if (t.type !== "RoleAssignedToUser" && t.type !== "RoleUnassignedFromUser") continue;
    const roleId = (t.payload as { roleId: string }).roleId;
    changed.set(`${t.aggregateId}/${roleId}`, { userId: t.aggregateId, roleId });
  }
  if (changed.size) {
    const pairs = [...changed.values()];
    tx.defer`
      DELETE FROM user_roles ur USING jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS p("userId" uuid, "roleId" uuid)
      WHERE ur.user_id = p."userId" AND ur.role_id = p."roleId"`;
    const held = pairs.flatMap(({ userId, roleId }) => {
      const roleName = states.get(userId)?.roles[roleId];
      return roleName === undefined ? [] : [{ userId, roleId, roleName, assignedAt: assignedAt(timeline, userId, roleId) }];
    });
    // Every changed pair was just deleted: the COPY cannot meet one of them.
    if (held.length) await tx.copyRows("user_roles", USER_ROLE_COLUMNS, held.map((h) => [h.userId, h.roleId, h.roleName, h.assignedAt]));
  }
  await saveMembershipIntervals(tx, timeline);
  await insertTimeline(tx, USER_TIMELINE, timeline);
  if (!rebuild) repairStreamHeads(tx, STREAM.users.headType, touched);
}

/** When the role was last assigned in this batch (a pair still held after a change was assigned in it). */
function assignedAt(timeline: TimelineRow[], userId: string, roleId: string): string | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const t = timeline[i]!;
    if (t.aggregateId === userId && t.type === "RoleAssignedToUser" && (t.payload as { roleId: string }).roleId === roleId) {
      return t.occurredAt;
    }
  }
  return null;
}
