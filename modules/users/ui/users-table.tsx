"use client";
import Link from "next/link";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { DataTable } from "@/lib/ui/data-table";
import { Badge } from "@/lib/ui/badge";
import { formatDate } from "@/lib/ui/format";
import type { UsersTableRow } from "../read/user-row";
import { BulkActions } from "./bulk-actions";

/**
 * The users table with row selection for bulk changes. Only users on the
 * current page can be selected: a bulk change never reaches a row the admin
 * cannot see.
 */
export function UsersTable({
  users,
  roles,
  emptyState,
  selectable,
}: {
  users: UsersTableRow[];
  roles: { id: string; name: string }[];
  emptyState: ReactNode;
  /** Row selection and bulk actions, for admins who may change users (the actions check again). */
  selectable: boolean;
}) {
  // id → the user's version when the admin ticked it: a bulk delete then fails
  // for a user who changed after that (live updates re-render the rows), instead
  // of deleting something the admin has not seen.
  const [selection, setSelection] = useState<ReadonlyMap<string, number>>(new Map());
  const selected = users.filter((u) => selection.has(u.id)).map((u) => ({ ...u, version: selection.get(u.id) ?? u.version }));
  const allSelected = users.length > 0 && selected.length === users.length;
  const someSelected = selected.length > 0 && !allSelected;
  const selectAll = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAll.current) selectAll.current.indeterminate = someSelected;
  }, [someSelected]);
  const latestUsers = useRef(users);
  useEffect(() => {
    latestUsers.current = users;
  }, [users]);

  const toggle = (user: UsersTableRow, on: boolean) =>
    setSelection((prev) => {
      const next = new Map(prev);
      if (on) next.set(user.id, user.version);
      else next.delete(user.id);
      return next;
    });
  /** After a bulk run: keep the failed users selected, at the version shown now (a retry starts from it). */
  const keepSelected = (ids: string[]) =>
    setSelection(new Map(latestUsers.current.filter((u) => ids.includes(u.id)).map((u) => [u.id, u.version])));

  return (
    <div className="space-y-3">
      {selectable && <BulkActions selected={selected} roles={roles} onDone={keepSelected} />}
      <DataTable
        caption="Users"
        head={
          <>
            {selectable && (
            <th scope="col" className="w-10 px-4 py-3">
              <input
                ref={selectAll}
                type="checkbox"
                aria-label="Select all on this page"
                checked={allSelected}
                disabled={users.length === 0}
                onChange={(e) => setSelection(e.target.checked ? new Map(users.map((u) => [u.id, u.version])) : new Map())}
                className="size-4 rounded border-zinc-300 accent-zinc-900"
              />
            </th>
            )}
            <th scope="col" className="px-4 py-3">Email</th>
            <th scope="col" className="px-4 py-3">Name</th>
            <th scope="col" className="px-4 py-3">Status</th>
            <th scope="col" className="px-4 py-3">Roles</th>
            <th scope="col" className="px-4 py-3 whitespace-nowrap">Created</th>
          </>
        }
      >
        <tbody className="divide-y divide-zinc-100">
          {users.map((user) => {
            const isSelected = selection.has(user.id);
            return (
              <tr key={user.id} className={isSelected ? "bg-sky-50/60" : "hover:bg-zinc-50/70"}>
                {selectable && (
                  <td className="px-4 py-3">
                    <input
                      type="checkbox"
                      aria-label={`Select ${user.email}`}
                      checked={isSelected}
                      onChange={(e) => toggle(user, e.target.checked)}
                      className="size-4 rounded border-zinc-300 accent-zinc-900"
                    />
                  </td>
                )}
                <td className="px-4 py-3 font-medium whitespace-nowrap">
                  <Link href={`/users/${user.id}`} className="text-zinc-900 underline-offset-2 hover:underline">
                    {user.email}
                  </Link>
                </td>
                <td className="min-w-40 px-4 py-3 text-zinc-700">{user.name}</td>
                <td className="px-4 py-3">
                  {user.isDeleted ? <Badge tone="red">Deleted</Badge> : <Badge tone="green">Live</Badge>}
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
                  <time dateTime={user.createdAt}>{formatDate(new Date(user.createdAt))}</time>
                </td>
              </tr>
            );
          })}
          {users.length === 0 && (
            <tr>
              <td colSpan={selectable ? 6 : 5} className="px-4 py-12 text-center text-zinc-500">
                {emptyState}
              </td>
            </tr>
          )}
        </tbody>
      </DataTable>
    </div>
  );
}
