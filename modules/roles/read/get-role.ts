/**
 * One role's page (server only): the role, its live members and its own
 * history (role_events), newest first. Members' lost roles are in their own
 * timelines (RoleUnassignedFromUser), not here.
 */
import type { Role } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { describeActor, fieldChanges, type ActorLabel, type FieldChange } from "@/lib/events/display";
import { summarizeRoleEvent } from "./summarize-role-event";

export interface RoleMember {
  id: string;
  email: string;
  name: string;
  assignedAt: Date;
}

export interface RoleHistoryEntry extends ActorLabel {
  eventId: string;
  sequence: number;
  type: string;
  occurredAt: Date;
  /** For RoleUpdated: name and description, before → after. */
  changes: FieldChange[];
  detail: string | null;
}

/** The role's row (the Prisma model, not a copy of it), its members and its history. */
export interface RoleDetail extends Role {
  members: RoleMember[];
  /** Live members in all; `members` stops at `memberLimit`. */
  memberCount: number;
  history: RoleHistoryEntry[];
  hasMoreHistory: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Null when the read model has no such role (yet: it may still be projecting). */
export async function getRole(
  db: Db,
  id: string,
  { memberLimit = 200, historyLimit = 100 } = {},
): Promise<RoleDetail | null> {
  if (!UUID.test(id)) return null;
  const liveMember = { roleId: id, user: { isDeleted: false } };
  const [role, members, memberCount] = await Promise.all([
    db.role.findUnique({
      where: { id },
      include: { events: { orderBy: { sequence: "desc" }, take: historyLimit + 1 } },
    }),
    db.userRole.findMany({
      where: liveMember,
      orderBy: [{ user: { emailLower: "asc" } }, { userId: "asc" }],
      take: memberLimit,
      select: { assignedAt: true, user: { select: { id: true, email: true, name: true } } },
    }),
    db.userRole.count({ where: liveMember }),
  ]);
  if (!role) return null;
  const { events, ...fields } = role;
  return {
    ...fields,
    members: members.map((m) => ({ ...m.user, assignedAt: m.assignedAt })),
    memberCount,
    history: events.slice(0, historyLimit).map((e) => ({
      eventId: e.eventId,
      sequence: e.sequence,
      type: e.type,
      occurredAt: e.occurredAt,
      ...describeActor(e.actor),
      changes: e.type === "RoleUpdated" ? fieldChanges(e.changes) : [],
      detail: e.type === "RoleCreated" ? (summarizeRoleEvent(e.type, e.payload)?.text ?? null) : null,
    })),
    hasMoreHistory: events.length > historyLimit,
  };
}

/** Just the name (page titles). */
export async function getRoleName(db: Db, id: string): Promise<string | null> {
  if (!UUID.test(id)) return null;
  const role = await db.role.findUnique({ where: { id }, select: { name: true } });
  return role?.name ?? null;
}
