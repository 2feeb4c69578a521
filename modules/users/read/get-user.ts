/**
 * One user's page (server only): the profile, current roles and the first
 * page of the audit timeline (the rest comes from the timeline route).
 */
import type { Db } from "@/lib/db";
import { currentRoleNames } from "./list-users";
import type { UserProfile } from "./user-row";
import { getTimelinePage, isUserId, type TimelinePage } from "./user-timeline";

export type { TimelineEntry } from "./user-timeline";

export interface UserRoleRow {
  id: string;
  name: string;
  assignedAt: Date;
}

export interface UserDetail extends UserProfile {
  roles: UserRoleRow[];
  /** Newest first; `nextBefore` continues it. */
  timeline: TimelinePage;
}

/** Returns null when the read model has no such user (yet: it may still be projecting). */
export async function getUser(db: Db, id: string): Promise<UserDetail | null> {
  if (!isUserId(id)) return null;
  const [user, timeline] = await Promise.all([
    db.user.findUnique({
      where: { id },
      select: {
        id: true,
        email: true,
        name: true,
        isDeleted: true,
        version: true,
        createdAt: true,
        updatedAt: true,
        deletedAt: true,
        lastLoginAt: true,
        erasedAt: true,
        roles: { orderBy: { assignedAt: "asc" } },
      },
    }),
    getTimelinePage(db, id),
  ]);
  if (!user || !timeline) return null;
  const names = await currentRoleNames(
    db,
    user.roles.map((r) => r.roleId),
  );
  const { roles, ...profile } = user;
  return {
    ...profile,
    roles: roles.map((r) => ({ id: r.roleId, name: names.get(r.roleId) ?? r.roleName, assignedAt: r.assignedAt })),
    timeline,
  };
}
