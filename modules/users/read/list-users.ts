/**
 * The users table (server only), built to stay fast at a million users:
 * - search is a case-insensitive prefix match on email_lower / name_lower
 *   (COLLATE "C" btree indexes serve `LIKE 'abc%'`), LIKE wildcards escaped;
 * - pagination is keyset on the sort key plus id (never OFFSET), so a page
 *   neither skips nor repeats a user while others are being created;
 * - the total is counted with exactly the same filters.
 * Raw SQL on purpose: Prisma's `startsWith` neither escapes `%`/`_` nor lets us
 * say which lower-cased column to compare, and both decide whether an index is used.
 */
import { Prisma, type User } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import type { UserListRow } from "./user-row";

export const USER_STATUSES = ["live", "deleted", "all"] as const;
export type UserStatusFilter = (typeof USER_STATUSES)[number];

export const USER_SORTS = ["created", "name"] as const;
export type UserSort = (typeof USER_SORTS)[number];

export interface ListUsersParams {
  search?: string;
  status?: UserStatusFilter;
  /** Only users who currently have this role. */
  roleId?: string | null;
  sort?: UserSort;
  /** The `nextCursor` of the previous page (ignored if it was made for another sort). */
  cursor?: string | null;
  limit?: number;
}


export interface UserListPage {
  users: UserListRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Users matching the filters, over all pages (at most COUNT_CAP). */
  total: number;
  /** True when more than COUNT_CAP users match: show "more than …". */
  isTotalCapped: boolean;
}

/**
 * Exact totals up to this many matching users; beyond it the page says "more
 * than 1,000". The count runs on every page view and costs O(matching rows):
 * at 1M users a broad filter (a two-letter search, a common role, no filter)
 * matches hundreds of thousands, and a cap of 100,000 still read 100,000 rows
 * per view. A thousand is a bounded read, and past it the exact number does
 * not change what anyone does next (narrow the search).
 */
export const COUNT_CAP = 1_000;

/** A role with at most this many members is read from its member list (see listUsers). */
const FEW_MEMBERS = 20_000;

/** Members of a role, counted up to `upTo` + 1 (an index-only range on user_roles). */
async function roleMemberCount(db: Db, roleId: string, upTo: number): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM user_roles WHERE role_id = ${roleId}::uuid LIMIT ${upTo + 1}) m`;
  return row?.n ?? 0;
}

export const isUserStatusFilter = (value: unknown): value is UserStatusFilter =>
  typeof value === "string" && (USER_STATUSES as readonly string[]).includes(value);
export const isUserSort = (value: unknown): value is UserSort =>
  typeof value === "string" && (USER_SORTS as readonly string[]).includes(value);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `abc` → a LIKE prefix pattern with `\`, `%` and `_` taken literally (backslash is LIKE's default escape). */
export const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * `plan.fewMembers`: the most members a role may have to be read from its member
 * list (default FEW_MEMBERS); tests set it to 0 to check both plans agree.
 */
export async function listUsers(
  db: Db,
  params: ListUsersParams = {},
  plan: { fewMembers?: number } = {},
): Promise<UserListPage> {
  const limit = Math.min(Math.max(params.limit ?? 25, 1), 100);
  const sort: UserSort = params.sort ?? "created";
  const search = params.search?.trim() ?? "";
  const roleId = params.roleId && UUID.test(params.roleId) ? params.roleId : null;

  const filters: Prisma.Sql[] = [];
  if (params.status === "live") filters.push(Prisma.sql`u.is_deleted = false`);
  if (params.status === "deleted") filters.push(Prisma.sql`u.is_deleted = true`);
  if (search) {
    // lower() in SQL, as the projector lowers the columns: the same case folding on both sides.
    // The pattern is a bound value, so PostgreSQL plans it as a constant prefix: an index range scan.
    const pattern = likePrefix(search);
    filters.push(Prisma.sql`(u.email_lower LIKE lower(${pattern}) OR u.name_lower LIKE lower(${pattern}))`);
  }
  // A role held by few users is read from its side: its members (an index range on user_roles),
  // then their rows. Walking users in page order and probing each for the role reads every user
  // when the members sit at the far end of that order (measured: 1.3 s at 1M users for a role of
  // 1,250 old accounts). A role held by many is dense enough for the walk.
  const threshold = plan.fewMembers ?? FEW_MEMBERS;
  const fewMembers = roleId !== null && (await roleMemberCount(db, roleId, threshold)) <= threshold;
  const from =
    roleId && fewMembers
      ? Prisma.sql`FROM users u JOIN (SELECT user_id FROM user_roles WHERE role_id = ${roleId}::uuid OFFSET 0) members ON members.user_id = u.id`
      : Prisma.sql`FROM users u`;
  if (roleId && !fewMembers) {
    filters.push(Prisma.sql`EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = ${roleId}::uuid AND ur.user_id = u.id)`);
  }

  const pageFilters = [...filters];
  const after = decodeCursor(params.cursor, sort);
  if (after?.sort === "created") {
    pageFilters.push(Prisma.sql`(u.created_at, u.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  } else if (after?.sort === "name") {
    pageFilters.push(Prisma.sql`(u.name_lower, u.id) > (${after.nameLower}, ${after.id}::uuid)`);
  }

  const where = (parts: Prisma.Sql[]) =>
    parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;
  const orderBy =
    sort === "name" ? Prisma.sql`ORDER BY u.name_lower ASC, u.id ASC` : Prisma.sql`ORDER BY u.created_at DESC, u.id DESC`;

  const [rows, counted] = await Promise.all([
    db.$queryRaw<RawUserRow[]>`
      SELECT u.id, u.email, u.name, u.is_deleted AS "isDeleted", u.version, u.created_at AS "createdAt",
        u.name_lower AS "nameLower"
      ${from} ${where(pageFilters)} ${orderBy} LIMIT ${limit + 1}`,
    // Counting is O(matching rows) whatever the index, so it stops at COUNT_CAP.
    db.$queryRaw<{ total: number }[]>`
      SELECT count(*)::int AS total FROM (SELECT 1 ${from} ${where(filters)} LIMIT ${COUNT_CAP + 1}) matching`,
  ]);

  const page = rows.slice(0, limit);
  const assignments = page.length
    ? await db.userRole.findMany({
        where: { userId: { in: page.map((u) => u.id) } },
        select: { userId: true, roleId: true, roleName: true },
      })
    : [];
  const currentNames = await currentRoleNames(
    db,
    assignments.map((a) => a.roleId),
  );
  const rolesByUser = new Map<string, { id: string; name: string }[]>();
  for (const a of assignments) {
    const list = rolesByUser.get(a.userId) ?? [];
    list.push({ id: a.roleId, name: currentNames.get(a.roleId) ?? a.roleName });
    rolesByUser.set(a.userId, list);
  }

  const last = page.at(-1);
  return {
    users: page.map(({ nameLower: _nameLower, ...user }) => ({
      ...user,
      roles: (rolesByUser.get(user.id) ?? []).sort((a, b) => a.name.localeCompare(b.name)),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(sort, last) : null,
    total: Math.min(counted[0]?.total ?? 0, COUNT_CAP),
    isTotalCapped: (counted[0]?.total ?? 0) > COUNT_CAP,
  };
}

/** What the list query selects: a list row before its roles, with the sort key. */
type RawUserRow = Omit<UserListRow, "roles"> & Pick<User, "nameLower">;

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

type Cursor =
  | { sort: "created"; createdAt: string; id: string }
  | { sort: "name"; nameLower: string; id: string };

function encodeCursor(sort: UserSort, row: RawUserRow): string {
  const cursor: Cursor =
    sort === "name"
      ? { sort, nameLower: row.nameLower, id: row.id }
      : { sort, createdAt: row.createdAt.toISOString(), id: row.id };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** A cursor that does not parse, or was made for another sort, means "from the start", not an error. */
function decodeCursor(cursor: string | null | undefined, sort: UserSort): Cursor | null {
  if (!cursor) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const c = value as Record<string, unknown>;
  if (c.sort !== sort || typeof c.id !== "string" || !UUID.test(c.id)) return null;
  if (c.sort === "created" && typeof c.createdAt === "string" && !Number.isNaN(Date.parse(c.createdAt))) {
    return { sort: "created", createdAt: c.createdAt, id: c.id };
  }
  if (c.sort === "name" && typeof c.nameLower === "string") return { sort: "name", nameLower: c.nameLower, id: c.id };
  return null;
}

/** Live roles by name, for the role filter and the role pickers (id and name only: cheap at any size). */
export async function listRoleOptions(db: Db): Promise<{ id: string; name: string }[]> {
  return db.role.findMany({
    where: { isDeleted: false },
    orderBy: [{ name: "asc" }, { id: "asc" }],
    select: { id: true, name: true },
  });
}
