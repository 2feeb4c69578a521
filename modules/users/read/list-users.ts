/**
 * The users table (server only): newest first, keyset pagination on
 * (created_at, id) so a page never skips or repeats a user while others are
 * being created, an optional case-insensitive prefix search on email or name,
 * and an optional status filter.
 */
import type { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";

export const USER_STATUSES = ["all", "active", "deleted"] as const;
export type UserStatusFilter = (typeof USER_STATUSES)[number];

export interface ListUsersParams {
  search?: string;
  status?: UserStatusFilter;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
  limit?: number;
}

export interface UserListRow {
  id: string;
  email: string;
  name: string;
  isDeleted: boolean;
  version: number;
  createdAt: Date;
  roles: { id: string; name: string }[];
}

export interface UserListPage {
  users: UserListRow[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const isUserStatusFilter = (value: unknown): value is UserStatusFilter =>
  typeof value === "string" && (USER_STATUSES as readonly string[]).includes(value);

export async function listUsers(db: Db, params: ListUsersParams = {}): Promise<UserListPage> {
  const limit = Math.min(Math.max(params.limit ?? 25, 1), 100);
  const search = params.search?.trim();
  const after = decodeCursor(params.cursor);
  const and: Prisma.UserWhereInput[] = [];
  if (params.status === "active") and.push({ isDeleted: false });
  if (params.status === "deleted") and.push({ isDeleted: true });
  if (search) {
    and.push({
      OR: [
        { email: { startsWith: search, mode: "insensitive" } },
        { name: { startsWith: search, mode: "insensitive" } },
      ],
    });
  }
  if (after) {
    and.push({
      OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
    });
  }
  const rows = await db.user.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: {
      id: true,
      email: true,
      name: true,
      isDeleted: true,
      version: true,
      createdAt: true,
      roles: { select: { roleId: true, roleName: true }, orderBy: { roleName: "asc" } },
    },
  });
  const page = rows.slice(0, limit);
  const currentNames = await currentRoleNames(
    db,
    page.flatMap((u) => u.roles.map((r) => r.roleId)),
  );
  const last = page.at(-1);
  return {
    users: page.map(({ roles, ...user }) => ({
      ...user,
      roles: roles.map((r) => ({ id: r.roleId, name: currentNames.get(r.roleId) ?? r.roleName })),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/**
 * user_roles keeps the role's name as it was when assigned; the roles table
 * has today's name (after a rename). Prefer today's, fall back to the stored.
 */
export async function currentRoleNames(db: Db, roleIds: string[]): Promise<Map<string, string>> {
  if (roleIds.length === 0) return new Map();
  const roles = await db.role.findMany({
    where: { id: { in: [...new Set(roleIds)] } },
    select: { id: true, name: true },
  });
  return new Map(roles.map((r) => [r.id, r.name]));
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");
}

/** A cursor that does not parse is treated as "from the start", not as an error. */
function decodeCursor(cursor: string | null | undefined): { createdAt: Date; id: string } | null {
  if (!cursor) return null;
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) return null;
  return { createdAt, id };
}
