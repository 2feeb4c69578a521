import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db";
import { Badge } from "@/lib/ui/badge";
import { EventByline, EventTypeBadge, FieldChanges } from "@/lib/ui/event-display";
import { formatDateTime } from "@/lib/ui/format";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { getRole, getRoleName, type RoleDetail, type RoleHistoryEntry } from "@/modules/roles/read/get-role";
import { DeleteRoleForm } from "@/modules/roles/ui/delete-role-form";
import { RoleDeletionProgress } from "@/modules/roles/ui/role-deletion-progress";
import { EditRoleForm } from "@/modules/roles/ui/edit-role-form";
import { RolePermissions } from "@/modules/roles/ui/role-permissions";
import { getRoleDeletionProgress } from "@/modules/users/read/role-deletion-progress";
import { accessReviewHref, getRoleMembershipHistory } from "@/modules/users/read/role-membership";
import { MembershipHistory } from "@/modules/users/ui/membership-history";

interface Props {
  params: Promise<{ id: string }>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  await requirePage("users:read");
  const name = await getRoleName(getDb(), (await params).id);
  return { title: name ? `Role ${name}` : "Role" };
}

export default async function RolePage({ params }: Props) {
  const viewer = await requirePage("users:read"); // per request (reads the session), never prerendered
  const canWrite = viewer.permissions.has("roles:write");
  const { id } = await params;
  const db = getDb();
  const role = await getRole(db, id);
  if (!role) notFound();
  const now = new Date();
  const history = await getRoleMembershipHistory(db, role.id, role.deletedAt ?? now);
  const deletion = role.isDeleted ? null : await getRoleDeletionProgress(db, role.id, now);
  const minute = (d: Date) => d.toISOString().slice(0, 19);
  const reviewHref = accessReviewHref({ role: role.id, from: minute(role.createdAt), to: minute(role.deletedAt ?? now) });

  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/roles" className="text-zinc-600 underline-offset-2 hover:underline">
          ← Roles
        </Link>
      </p>
      <PageHeader title={role.name} description={role.description || undefined}>
        <div className="flex flex-wrap items-center gap-2 pt-1 text-xs text-zinc-500">
          {role.isDeleted ? <Badge tone="red">Deleted</Badge> : <Badge tone="green">Active</Badge>}
          <span>Version {role.version}</span>
          <span aria-hidden="true">·</span>
          <span>
            Created <time dateTime={role.createdAt.toISOString()}>{formatDateTime(role.createdAt)}</time>
          </span>
        </div>
      </PageHeader>

      {role.isDeleted && role.deletedAt && (
        <p role="status" className="mb-6 rounded-md bg-zinc-100 px-4 py-3 text-sm text-zinc-700 ring-1 ring-zinc-200">
          This role was deleted on <time dateTime={role.deletedAt.toISOString()}>{formatDateTime(role.deletedAt)}</time>.
          Its members lost it first; its history stays below.
        </p>
      )}

      <div className="grid gap-6 lg:grid-cols-5">
        <div className="min-w-0 space-y-6 lg:col-span-3">
          {!role.isDeleted && canWrite && (
            <Card title="Details" id="details-heading">
              <EditRoleForm
                roleId={role.id}
                version={role.version}
                name={role.name}
                description={role.description}
                permissions={role.permissions}
                builtIn={role.builtIn}
              />
            </Card>
          )}
          {!canWrite && (
            <Card title="Permissions" id="permissions-heading">
              <RolePermissions permissions={role.permissions} builtIn={role.builtIn} />
              {role.permissions.length === 0 && <p className="text-sm text-zinc-500">None.</p>}
            </Card>
          )}
          {deletion && !deletion.finishedAt && !(canWrite && !role.builtIn) && (
            <Card title="Deletion" id="deletion-heading">
              <RoleDeletionProgress roleId={role.id} initial={deletion} />
            </Card>
          )}
          <Members role={role} />
          <Card title="Membership history" id="membership-history-heading">
            <MembershipHistory history={history} roleName={role.name} reviewHref={reviewHref} />
          </Card>
          {!role.isDeleted && canWrite && !role.builtIn && (
            <Card title="Delete" id="delete-heading">
              <div className="flex flex-wrap items-start justify-between gap-3">
                <p className="text-sm text-zinc-600">
                  Every member loses the role first; each one&apos;s timeline records it.
                </p>
                <DeleteRoleForm
                  roleId={role.id}
                  version={role.version}
                  name={role.name}
                  memberCount={role.memberCount}
                  size="md"
                  progress={deletion}
                />
              </div>
            </Card>
          )}
        </div>
        <div className="min-w-0 lg:col-span-2">
          <Card title="History" id="history-heading">
            <History entries={role.history} />
            {role.hasMoreHistory && (
              <p className="mt-3 text-xs text-zinc-500">Showing the latest {role.history.length} events.</p>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}

function Members({ role }: { role: RoleDetail }) {
  const title = (
    <span className="flex items-center gap-2">
      Members <Badge>{role.memberCount}</Badge>
    </span>
  );
  return (
    <Card title={title} id="members-heading">
      {role.members.length === 0 ? (
        <p className="text-sm text-zinc-500">{role.isDeleted ? "Nobody: the role was deleted." : "No user has this role."}</p>
      ) : (
        <div className="-mx-5 -my-4 overflow-x-auto">
          <table className="min-w-full divide-y divide-zinc-100 text-sm">
            <caption className="sr-only">Members of {role.name}</caption>
            <thead className="text-left text-xs font-semibold tracking-wide text-zinc-600 uppercase">
              <tr>
                <th scope="col" className="px-5 py-2.5">Email</th>
                <th scope="col" className="px-5 py-2.5">Name</th>
                <th scope="col" className="hidden px-5 py-2.5 whitespace-nowrap sm:table-cell">Since</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100">
              {role.members.map((m) => (
                <tr key={m.id} className="hover:bg-zinc-50/70">
                  <td className="px-5 py-2.5 font-medium break-all">
                    <Link href={`/users/${m.id}`} className="text-zinc-900 underline-offset-2 hover:underline">
                      {m.email}
                    </Link>
                  </td>
                  <td className="px-5 py-2.5 text-zinc-700">{m.name}</td>
                  <td className="hidden px-5 py-2.5 whitespace-nowrap text-zinc-600 sm:table-cell">
                    <time dateTime={m.assignedAt.toISOString()}>{formatDateTime(m.assignedAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {role.memberCount > role.members.length && (
            <p className="px-5 py-2.5 text-xs text-zinc-500">
              Showing {role.members.length} of {role.memberCount} members.
            </p>
          )}
        </div>
      )}
    </Card>
  );
}

function History({ entries }: { entries: RoleHistoryEntry[] }) {
  if (entries.length === 0) return <p className="text-sm text-zinc-500">No events yet.</p>;
  return (
    <ol aria-label="History" className="relative space-y-5 border-l border-zinc-200 pl-5">
      {entries.map((e) => (
        <li key={e.eventId} className="relative">
          <span aria-hidden="true" className="absolute top-1.5 -left-[25px] size-2.5 rounded-full border-2 border-white bg-zinc-400" />
          <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
            <EventTypeBadge type={e.type} />
            {e.detail && <span className="min-w-0 text-sm break-words text-zinc-800">{e.detail}</span>}
          </div>
          <FieldChanges changes={e.changes} />
          <EventByline actor={e.actor} actorKind={e.actorKind} actorKey={e.actorKey} occurredAt={e.occurredAt} />
        </li>
      ))}
    </ol>
  );
}
