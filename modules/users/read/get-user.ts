/**
 * One user's page (server only): the profile, current roles and the audit
 * timeline (user_events), newest first.
 */
import type { Db } from "@/lib/db";
import { actorSchema } from "@/lib/events/envelope";
import { userPayloadSchemas } from "@/modules/users/domain/events";
import { currentRoleNames } from "./list-users";

export interface UserRoleRow {
  id: string;
  name: string;
  assignedAt: Date;
}

export interface FieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

export interface TimelineEntry {
  eventId: string;
  sequence: number;
  type: string;
  occurredAt: Date;
  /** A service's name or an admin's email. */
  actor: string;
  actorKind: "user" | "service" | "unknown";
  /** For UserUpdated (and UserCreated): the profile fields, before → after. */
  changes: FieldChange[];
  /** A short description for role events, e.g. the role's name. */
  detail: string | null;
}

export interface UserDetail {
  id: string;
  email: string;
  name: string;
  isDeleted: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  lastLoginAt: Date | null;
  roles: UserRoleRow[];
  timeline: TimelineEntry[];
  /** True when the timeline was cut at `timelineLimit`. */
  hasMoreTimeline: boolean;
}

/** Returns null when the read model has no such user (yet: it may still be projecting). */
export async function getUser(db: Db, id: string, { timelineLimit = 50 } = {}): Promise<UserDetail | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const user = await db.user.findUnique({
    where: { id },
    include: {
      roles: { orderBy: { assignedAt: "asc" } },
      events: { orderBy: { sequence: "desc" }, take: timelineLimit + 1 },
    },
  });
  if (!user) return null;
  const names = await currentRoleNames(
    db,
    user.roles.map((r) => r.roleId),
  );
  const { roles, events, ...profile } = user;
  return {
    ...profile,
    roles: roles.map((r) => ({ id: r.roleId, name: names.get(r.roleId) ?? r.roleName, assignedAt: r.assignedAt })),
    timeline: events.slice(0, timelineLimit).map((e) => ({
      eventId: e.eventId,
      sequence: e.sequence,
      type: e.type,
      occurredAt: e.occurredAt,
      ...describeActor(e.actor),
      changes: e.type === "UserUpdated" ? readChanges(e.changes) : [],
      detail: describePayload(e.type, e.payload),
    })),
    hasMoreTimeline: events.length > timelineLimit,
  };
}

function describeActor(raw: unknown): Pick<TimelineEntry, "actor" | "actorKind"> {
  const parsed = actorSchema.safeParse(raw);
  if (!parsed.success) return { actor: "unknown", actorKind: "unknown" };
  const actor = parsed.data;
  return actor.kind === "user" ? { actor: actor.email, actorKind: "user" } : { actor: actor.name, actorKind: "service" };
}

/** `changes` is `{ field: { before, after } }` (see userChanges in the domain). */
function readChanges(raw: unknown): FieldChange[] {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>).map(([field, change]) => {
    const c = (change ?? {}) as { before?: unknown; after?: unknown };
    return { field, before: asText(c.before), after: asText(c.after) };
  });
}

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function describePayload(type: string, payload: unknown): string | null {
  switch (type) {
    case "RoleAssignedToUser": {
      const p = userPayloadSchemas.RoleAssignedToUser.safeParse(payload);
      return p.success ? p.data.roleName : null;
    }
    case "RoleUnassignedFromUser": {
      const p = userPayloadSchemas.RoleUnassignedFromUser.safeParse(payload);
      if (!p.success) return null;
      return p.data.reason === "role-deleted" ? `${p.data.roleName} (role deleted)` : p.data.roleName;
    }
    case "UserCreated": {
      const p = userPayloadSchemas.UserCreated.safeParse(payload);
      return p.success ? `${p.data.name} <${p.data.email}>` : null;
    }
    case "UserLoggedIn": {
      const p = userPayloadSchemas.UserLoggedIn.safeParse(payload);
      return p.success && p.data.ip ? `from ${p.data.ip}` : null;
    }
    default:
      return null;
  }
}
