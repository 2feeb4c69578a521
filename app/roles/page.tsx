import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Link from "next/link";
import { getDb } from "@/lib/db";
import { DataTable } from "@/lib/ui/data-table";
import { formatDate } from "@/lib/ui/format";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { listRoles } from "@/modules/roles/read/list-roles";
import { CreateRoleForm } from "@/modules/roles/ui/create-role-form";
import { DeleteRoleForm } from "@/modules/roles/ui/delete-role-form";
import { NewRoleButton } from "@/modules/roles/ui/new-role-button";
import { RolePermissions } from "@/modules/roles/ui/role-permissions";

export const metadata: Metadata = { title: "Roles" };

export default async function RolesPage() {
  const viewer = await requirePage("users:read"); // per request (reads the session), never prerendered
  const canWrite = viewer.permissions.has("roles:write");
  const roles = await listRoles(getDb());

  return (
    <>
      <PageHeader
        title="Roles"
        description="What users may do. Deleting a role removes it from its members first."
        actions={canWrite && <NewRoleButton />}
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="min-w-0 lg:col-span-2">
          <DataTable
            caption="Roles"
            head={
              <>
                <th scope="col" className="px-4 py-3">Name</th>
                <th scope="col" className="hidden px-4 py-3 sm:table-cell">Description</th>
                <th scope="col" className="px-4 py-3 text-right">Members</th>
                <th scope="col" className="hidden px-4 py-3 whitespace-nowrap sm:table-cell">Created</th>
                <th scope="col" className="px-4 py-3">
                  <span className="sr-only">Actions</span>
                </th>
              </>
            }
          >
            <tbody className="divide-y divide-zinc-100">
              {roles.map((role) => (
                <tr key={role.id} className="align-top hover:bg-zinc-50/70">
                  <td className="px-4 py-3 font-medium">
                    <Link href={`/roles/${role.id}`} className="text-zinc-900 underline-offset-2 hover:underline">
                      {role.name}
                    </Link>
                    {/* Narrow screens: the description column is hidden, so it goes here. */}
                    <RolePermissions permissions={role.permissions} builtIn={role.builtIn} />
                    {role.description && (
                      <p className="mt-0.5 text-xs font-normal break-words text-zinc-500 sm:hidden">{role.description}</p>
                    )}
                  </td>
                  <td className="hidden max-w-xs px-4 py-3 break-words text-zinc-600 sm:table-cell">
                    {role.description || <span className="text-zinc-400">—</span>}
                  </td>
                  <td className="px-4 py-3 text-right text-zinc-900 tabular-nums">{role.memberCount}</td>
                  <td className="hidden px-4 py-3 whitespace-nowrap text-zinc-600 sm:table-cell">
                    <time dateTime={role.createdAt.toISOString()}>{formatDate(role.createdAt)}</time>
                  </td>
                  <td className="px-4 py-3 text-right">
                    {canWrite && !role.builtIn && <DeleteRoleForm
                      roleId={role.id}
                      version={role.version}
                      name={role.name}
                      memberCount={role.memberCount}
                    />}
                  </td>
                </tr>
              ))}
              {roles.length === 0 && (
                <tr>
                  <td colSpan={5} className="px-4 py-12 text-center text-zinc-500">
                    No roles yet. Create one with the form.
                  </td>
                </tr>
              )}
            </tbody>
          </DataTable>
        </div>
        {canWrite && (
          <div className="min-w-0">
            <Card title="New role" id="new-role-heading">
              <CreateRoleForm roleIds={roles.map((r) => r.id)} />
            </Card>
          </div>
        )}
      </div>
    </>
  );
}
