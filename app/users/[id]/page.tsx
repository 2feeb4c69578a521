import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import { EndSessionsForm } from "@/modules/access/ui/end-sessions-form";
import { SetPasswordForm } from "@/modules/access/ui/set-password-form";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db";
import { Badge } from "@/lib/ui/badge";
import { formatDateTime } from "@/lib/ui/format";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { getUser } from "@/modules/users/read/get-user";
import { listRoleOptions } from "@/modules/users/read/list-users";
import { AssignRoleForm } from "@/modules/users/ui/assign-role-form";
import { DeleteUserForm } from "@/modules/users/ui/delete-user-form";
import { EditUserForm } from "@/modules/users/ui/edit-user-form";
import { UnassignRoleForm } from "@/modules/users/ui/unassign-role-form";
import { getFieldHistories, getTimelinePage } from "@/modules/users/read/user-timeline";
import { FieldHistory } from "@/modules/users/ui/field-history";
import { UserTimeline } from "@/modules/users/ui/user-timeline";
import { ErasePersonForm } from "@/modules/privacy/ui/erase-person-form";
import { eventsInClear } from "@/modules/privacy/application/erase-person";

export const metadata: Metadata = { title: "User" };

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export default async function UserPage({ params, searchParams }: Props) {
  const viewer = await requirePage("users:read"); // per request (reads the session), never prerendered
  const canWrite = viewer.permissions.has("users:write");
  const canErase = viewer.permissions.has("users:erase");
  const [{ id }, query] = await Promise.all([params, searchParams]);
  const db = getDb();
  // `?event=N` (a link to a timeline entry): the timeline starts at that event.
  const event = Number(Array.isArray(query.event) ? query.event[0] : query.event);
  const startAt = Number.isInteger(event) && event > 0 ? event : null;
  const [user, roles, credential, histories, focused] = await Promise.all([
    getUser(db, id),
    listRoleOptions(db),
    /^[0-9a-f-]{36}$/i.test(id) ? db.credential.findUnique({ where: { userId: id }, select: { userId: true } }) : null,
    getFieldHistories(db, id),
    startAt === null ? null : getTimelinePage(db, id, { before: startAt + 1 }),
  ]);
  const hasPassword = credential !== null;

  if (!user) {
    // Just created, and the projector has not written the row yet.
    if (query.pending) {
      return (
        <>
          <BackLink />
          <PageHeader title="Creating user…" description="The user was saved; this page fills in once the read model has it." />
          <RefreshWhilePending pending />
        </>
      );
    }
    notFound();
  }

  const assignedIds = new Set(user.roles.map((r) => r.id));
  const assignable = roles.filter((r) => !assignedIds.has(r.id));

  return (
    <>
      <BackLink />
      <PageHeader title={user.email} description={user.name}>
        <div className="flex flex-wrap items-center gap-2 pt-1 text-xs text-zinc-500">
          {user.isDeleted ? <Badge tone="red">Deleted</Badge> : <Badge tone="green">Live</Badge>}
          <span>Version {user.version}</span>
          <span aria-hidden="true">·</span>
          <span>
            Created <time dateTime={user.createdAt.toISOString()}>{formatDateTime(user.createdAt)}</time>
          </span>
          {user.lastLoginAt && (
            <>
              <span aria-hidden="true">·</span>
              <span>
                Last login <time dateTime={user.lastLoginAt.toISOString()}>{formatDateTime(user.lastLoginAt)}</time>
              </span>
            </>
          )}
        </div>
      </PageHeader>

      {user.erasedAt && (
        <p role="status" className="mb-6 rounded-md bg-zinc-100 px-4 py-3 text-sm text-zinc-700 ring-1 ring-zinc-200">
          This person&apos;s personal data was erased on{" "}
          <time dateTime={user.erasedAt.toISOString()}>{formatDateTime(user.erasedAt)}</time>: their key is destroyed, and
          “[erased]” stands in its place.
        </p>
      )}

      {user.isDeleted && user.deletedAt && !user.erasedAt && (
        <p role="status" className="mb-6 rounded-md bg-zinc-100 px-4 py-3 text-sm text-zinc-700 ring-1 ring-zinc-200">
          This user was deleted on <time dateTime={user.deletedAt.toISOString()}>{formatDateTime(user.deletedAt)}</time>.
          Their history stays below.
        </p>
      )}

      <div className="grid gap-6 lg:grid-cols-5">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          {!user.isDeleted && canWrite && (
            <Card title="Profile" id="profile-heading">
              <EditUserForm userId={user.id} version={user.version} email={user.email} name={user.name} />
            </Card>
          )}

          <Card title="Field history" id="field-history-heading">
            <FieldHistory
              userId={user.id}
              current={{ email: user.email, name: user.name }}
              histories={histories ?? { email: [], name: [] }}
            />
          </Card>

          <Card title="Roles" id="roles-heading">
            {user.roles.length === 0 ? (
              <p className="text-sm text-zinc-500">No roles.</p>
            ) : (
              <ul aria-label="Current roles" className="divide-y divide-zinc-100">
                {user.roles.map((role) => (
                  <li key={role.id} className="flex items-center justify-between gap-3 py-2">
                    <div className="min-w-0">
                      <Badge tone="violet">{role.name}</Badge>
                      <span className="ml-2 text-xs text-zinc-500">
                        since <time dateTime={role.assignedAt.toISOString()}>{formatDateTime(role.assignedAt)}</time>
                      </span>
                    </div>
                    {!user.isDeleted && canWrite && <UnassignRoleForm userId={user.id} roleId={role.id} roleName={role.name} />}
                  </li>
                ))}
              </ul>
            )}
            {!user.isDeleted && canWrite && (
              <div className="mt-4 border-t border-zinc-100 pt-4">
                <AssignRoleForm userId={user.id} version={user.version} roles={assignable} />
              </div>
            )}
          </Card>

          {!user.isDeleted && canWrite && (
            <Card title="Console access" id="access-heading">
              <SetPasswordForm userId={user.id} hasPassword={hasPassword} />
              <div className="mt-4 border-t border-zinc-100 pt-4">
                <EndSessionsForm userId={user.id} />
              </div>
            </Card>
          )}

          {!user.isDeleted && canWrite && (
            <Card title="Delete" id="delete-heading">
              <p className="mb-3 text-sm text-zinc-600">
                The user disappears from the live list and loses their roles&apos; access; the timeline is kept.
              </p>
              <DeleteUserForm userId={user.id} version={user.version} email={user.email} />
            </Card>
          )}

          {canErase && (
            <Card title="Erase personal data" id="erase-heading">
              {user.erasedAt ? (
                <ErasedSummary erasedAt={user.erasedAt} inClear={await eventsInClear(db, user.id)} />
              ) : (
                <>
                  <p className="mb-3 text-sm text-zinc-600">
                    For an erasure request (GDPR art. 17): destroys the key of this person&apos;s data in the log, deletes
                    the account and purges their sessions and credentials. Their history stays, without their data.
                  </p>
                  <ErasePersonForm userId={user.id} />
                </>
              )}
            </Card>
          )}
        </div>

        <div className="min-w-0 lg:col-span-3">
          <Card title="Timeline" id="timeline-heading">
            <UserTimeline
              key={startAt ?? "newest"}
              userId={user.id}
              version={user.version}
              initialPage={focused ?? user.timeline}
              startAt={focused ? startAt : null}
            />
          </Card>
        </div>
      </div>
    </>
  );
}

/** What an erasure left: what no key can erase is said plainly (README, Privacy and erasure). */
function ErasedSummary({ erasedAt, inClear }: { erasedAt: Date; inClear: number }) {
  return (
    <p role="status" className="text-sm text-zinc-700">
      Personal data erased on <time dateTime={erasedAt.toISOString()}>{formatDateTime(erasedAt)}</time>: the key is
      destroyed.{" "}
      {inClear === 0
        ? "None of their events in the log carries their data in clear."
        : `${inClear === 1 ? "One event" : `${inClear} events`} in the log still carry it in clear (written before encryption or by another service): every page shows them erased, but the log itself keeps them.`}
    </p>
  );
}

function BackLink() {
  return (
    <p className="mb-2 text-sm">
      <Link href="/users" className="text-zinc-600 underline-offset-2 hover:underline">
        ← Users
      </Link>
    </p>
  );
}
