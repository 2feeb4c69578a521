/**
 * The users list's search and filters: a plain GET form, so the URL holds the
 * whole state and it works before (and without) JavaScript. Submitting drops
 * the cursor: new filters start from the first page.
 */
import Link from "next/link";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import type { UserSort, UserStatusFilter } from "@/modules/users/read/list-users";

export interface UserListQuery {
  q: string;
  /** Role id, or "" for any role. */
  role: string;
  status: UserStatusFilter;
  sort: UserSort;
}

/** The list's URL for `query` (defaults left out), optionally at a page `cursor`. */
export function usersHref(query: UserListQuery, cursor?: string): string {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.role) params.set("role", query.role);
  if (query.status !== "live") params.set("status", query.status);
  if (query.sort !== "created") params.set("sort", query.sort);
  if (cursor) params.set("cursor", cursor);
  const s = params.toString();
  return s ? `/users?${s}` : "/users";
}

const labelClass = "block text-sm font-medium text-zinc-800";

export function UserFilters({
  query,
  roles,
  isFiltered,
}: {
  query: UserListQuery;
  roles: { id: string; name: string }[];
  isFiltered: boolean;
}) {
  return (
    <form role="search" aria-label="Filter users" action="/users" className="mb-4 flex flex-wrap items-end gap-3">
      <div className="min-w-56 flex-1 space-y-1.5 sm:max-w-sm">
        <label htmlFor="users-search" className={labelClass}>
          Search
        </label>
        <input
          id="users-search"
          name="q"
          type="search"
          defaultValue={query.q}
          placeholder="Email or name starts with…"
          className={inputClass}
        />
      </div>
      <div className="min-w-40 space-y-1.5">
        <label htmlFor="users-role" className={labelClass}>
          Role
        </label>
        <select id="users-role" name="role" defaultValue={query.role} className={inputClass}>
          <option value="">Any role</option>
          {roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
      <div className="space-y-1.5">
        <label htmlFor="users-status" className={labelClass}>
          Status
        </label>
        <select id="users-status" name="status" defaultValue={query.status} className={inputClass}>
          <option value="live">Live</option>
          <option value="deleted">Deleted</option>
          <option value="all">All</option>
        </select>
      </div>
      <div className="space-y-1.5">
        <label htmlFor="users-sort" className={labelClass}>
          Sort by
        </label>
        <select id="users-sort" name="sort" defaultValue={query.sort} className={inputClass}>
          <option value="created">Newest first</option>
          <option value="name">Name (A–Z)</option>
        </select>
      </div>
      <button type="submit" className={buttonClass("secondary")}>
        Apply filters
      </button>
      {isFiltered && (
        <Link href="/users" className="py-2 text-sm text-zinc-600 underline-offset-2 hover:underline">
          Clear filters
        </Link>
      )}
    </form>
  );
}
