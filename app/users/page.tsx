import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Link from "next/link";
import { getDb } from "@/lib/db";
import { buttonClass } from "@/lib/ui/styles";
import { PageHeader } from "@/lib/ui/page-header";
import {
  isUserSort,
  isUserStatusFilter,
  listRoleOptions,
  listUsers,
  type UserSort,
  type UserStatusFilter,
} from "@/modules/users/read/list-users";
import { UserFilters, usersHref, type UserListQuery } from "@/modules/users/ui/user-filters";
import { UsersTable } from "@/modules/users/ui/users-table";

export const metadata: Metadata = { title: "Users" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const numberFormat = new Intl.NumberFormat("en-US");

/** The whole state of the list lives in the URL (q, role, status, sort, cursor): shareable and reloadable. */
export default async function UsersPage({ searchParams }: { searchParams: SearchParams }) {
  const viewer = await requirePage("users:read"); // per request (reads the session), never prerendered
  const params = await searchParams;
  const rawStatus = first(params.status);
  const rawSort = first(params.sort);
  const query: UserListQuery = {
    q: first(params.q)?.trim() ?? "",
    role: first(params.role) ?? "",
    // "active" was this filter's name in links made before "live".
    status: rawStatus === "active" ? "live" : isUserStatusFilter(rawStatus) ? rawStatus : ("live" satisfies UserStatusFilter),
    sort: isUserSort(rawSort) ? rawSort : ("created" satisfies UserSort),
  };
  const cursor = first(params.cursor) ?? null;
  const db = getDb();
  const [roles, { users, nextCursor, total, isTotalCapped }] = await Promise.all([
    listRoleOptions(db),
    listUsers(db, { search: query.q, status: query.status, roleId: query.role || null, sort: query.sort, cursor }),
  ]);
  const roleName = roles.find((r) => r.id === query.role)?.name;
  const isFiltered = query.q !== "" || query.role !== "" || query.status !== "live";

  return (
    <>
      <PageHeader
        title="Users"
        description={query.sort === "name" ? "Everyone with an account, by name." : "Everyone with an account, newest first."}
        actions={
          viewer.permissions.has("users:write") && (
            <Link href="/users/new" className={buttonClass("primary")}>
              New user
            </Link>
          )
        }
      />

      <UserFilters query={query} roles={roles} isFiltered={isFiltered} />

      <p className="mb-3 text-sm text-zinc-600" aria-live="polite">
        {isTotalCapped && "More than "}
        <strong className="font-semibold text-zinc-900 tabular-nums">{numberFormat.format(total)}</strong>{" "}
        {total === 1 ? "user" : "users"}
        {cursor && " · not on the first page"}
      </p>

      <UsersTable
        selectable={viewer.permissions.has("users:write")}
        users={users.map((u) => ({ ...u, createdAt: u.createdAt.toISOString() }))}
        roles={roles}
        emptyState={
          isFiltered ? (
            <>
              No users match {describeFilters(query, roleName)}.{" "}
              <Link href="/users" className="font-medium text-zinc-900 underline underline-offset-2">
                Clear filters
              </Link>
            </>
          ) : cursor ? (
            <>
              No more users.{" "}
              <Link href={usersHref(query)} className="font-medium text-zinc-900 underline underline-offset-2">
                Back to the first page
              </Link>
            </>
          ) : (
            <>
              No users yet.{" "}
              <Link href="/users/new" className="font-medium text-zinc-900 underline underline-offset-2">
                Create the first one
              </Link>
            </>
          )
        }
      />

      {(cursor || nextCursor) && (
        <nav aria-label="Pagination" className="mt-4 flex items-center justify-between gap-3 text-sm">
          {cursor ? (
            <Link href={usersHref(query)} className={buttonClass("secondary")}>
              ← First page
            </Link>
          ) : (
            <span />
          )}
          {nextCursor && (
            <Link href={usersHref(query, nextCursor)} className={buttonClass("secondary")}>
              Next page →
            </Link>
          )}
        </nav>
      )}
    </>
  );
}

function describeFilters(query: UserListQuery, roleName: string | undefined): string {
  const parts: string[] = [];
  if (query.q) parts.push(`“${query.q}”`);
  if (query.role) parts.push(`role ${roleName ?? "(deleted role)"}`);
  if (query.status === "deleted") parts.push("status deleted");
  return parts.length ? parts.join(", ") : "these filters";
}
