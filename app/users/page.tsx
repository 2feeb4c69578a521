import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { getDb } from "@/lib/db";
import { Badge } from "@/lib/ui/badge";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import { formatDate } from "@/lib/ui/format";
import { PageHeader } from "@/lib/ui/page-header";
import { isUserStatusFilter, listUsers, type UserStatusFilter } from "@/modules/users/read/list-users";

export const metadata: Metadata = { title: "Users" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function UsersPage({ searchParams }: { searchParams: SearchParams }) {
  await connection(); // rendered per request, never prerendered against the database
  const params = await searchParams;
  const search = first(params.q)?.trim() ?? "";
  const rawStatus = first(params.status);
  const status: UserStatusFilter = isUserStatusFilter(rawStatus) ? rawStatus : "all";
  const cursor = first(params.cursor) ?? null;
  const { users, nextCursor } = await listUsers(getDb(), { search, status, cursor });
  const isFiltered = search !== "" || status !== "all";

  const hrefWith = (extra: Record<string, string>) => {
    const query = new URLSearchParams();
    if (search) query.set("q", search);
    if (status !== "all") query.set("status", status);
    for (const [k, v] of Object.entries(extra)) query.set(k, v);
    const s = query.toString();
    return s ? `/users?${s}` : "/users";
  };

  return (
    <>
      <PageHeader
        title="Users"
        description="Everyone with an account, newest first."
        actions={
          <Link href="/users/new" className={buttonClass("primary")}>
            New user
          </Link>
        }
      />

      <form role="search" action="/users" className="mb-4 flex flex-wrap items-end gap-3">
        <div className="min-w-56 flex-1 space-y-1.5 sm:max-w-sm">
          <label htmlFor="users-search" className="block text-sm font-medium text-zinc-800">
            Search
          </label>
          <input
            id="users-search"
            name="q"
            type="search"
            defaultValue={search}
            placeholder="Email or name starts with…"
            className={inputClass}
          />
        </div>
        <div className="space-y-1.5">
          <label htmlFor="users-status" className="block text-sm font-medium text-zinc-800">
            Status
          </label>
          <select id="users-status" name="status" defaultValue={status} className={inputClass}>
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="deleted">Deleted</option>
          </select>
        </div>
        <button type="submit" className={buttonClass("secondary")}>
          Apply filters
        </button>
        {isFiltered && (
          <Link href="/users" className="py-2 text-sm text-zinc-600 underline-offset-2 hover:underline">
            Clear
          </Link>
        )}
      </form>

      <div className="relative overflow-x-auto rounded-lg border border-zinc-200 bg-white shadow-xs">
        <table className="min-w-full divide-y divide-zinc-200 text-sm">
          <caption className="sr-only">Users</caption>
          <thead className="bg-zinc-50 text-left text-xs font-semibold tracking-wide text-zinc-600 uppercase">
            <tr>
              <th scope="col" className="px-4 py-3">Email</th>
              <th scope="col" className="px-4 py-3">Name</th>
              <th scope="col" className="px-4 py-3">Status</th>
              <th scope="col" className="px-4 py-3">Roles</th>
              <th scope="col" className="px-4 py-3 whitespace-nowrap">Created</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100">
            {users.map((user) => (
              <tr key={user.id} className="hover:bg-zinc-50/70">
                <td className="px-4 py-3 font-medium">
                  <Link href={`/users/${user.id}`} className="text-zinc-900 underline-offset-2 hover:underline">
                    {user.email}
                  </Link>
                </td>
                <td className="px-4 py-3 text-zinc-700">{user.name}</td>
                <td className="px-4 py-3">
                  {user.isDeleted ? <Badge tone="red">Deleted</Badge> : <Badge tone="green">Active</Badge>}
                </td>
                <td className="px-4 py-3">
                  {user.roles.length === 0 ? (
                    <span className="text-zinc-400">—</span>
                  ) : (
                    <ul className="flex flex-wrap gap-1" aria-label={`Roles of ${user.email}`}>
                      {user.roles.map((role) => (
                        <li key={role.id}>
                          <Badge tone="violet">{role.name}</Badge>
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td className="px-4 py-3 whitespace-nowrap text-zinc-600">
                  <time dateTime={user.createdAt.toISOString()}>{formatDate(user.createdAt)}</time>
                </td>
              </tr>
            ))}
            {users.length === 0 && (
              <tr>
                <td colSpan={5} className="px-4 py-12 text-center text-zinc-500">
                  {isFiltered ? "No users match these filters." : cursor ? "No more users." : "No users yet."}
                  {!isFiltered && !cursor && (
                    <>
                      {" "}
                      <Link href="/users/new" className="font-medium text-zinc-900 underline underline-offset-2">
                        Create the first one
                      </Link>
                    </>
                  )}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {(cursor || nextCursor) && (
        <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
          {cursor ? (
            <Link href={hrefWith({})} className={buttonClass("secondary")}>
              ← Newest
            </Link>
          ) : (
            <span />
          )}
          {nextCursor && (
            <Link href={hrefWith({ cursor: nextCursor })} className={buttonClass("secondary")}>
              Older users →
            </Link>
          )}
        </nav>
      )}
    </>
  );
}
