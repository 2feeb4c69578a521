import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Form from "next/form";
import Link from "next/link";
import { getDb } from "@/lib/db";
import { streamOf } from "@/modules";
import { parseActorKey } from "@/lib/events/actor-filter";
import { ActorLink } from "@/lib/ui/actor-link";
import { DataTable } from "@/lib/ui/data-table";
import { EventTypeBadge, FieldChanges } from "@/lib/ui/event-display";
import { formatDateTime } from "@/lib/ui/format";
import { PageHeader } from "@/lib/ui/page-header";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import {
  ACTIVITY_EVENT_TYPES,
  activityHref,
  parseActivityFilters,
  type ActivityFilters,
} from "@/modules/activity/read/activity-filters";
import { listActivity, type ActivityEntry } from "@/modules/activity/read/list-activity";

export const metadata: Metadata = { title: "Activity" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const typeGroups = [
  { label: "Users", types: ACTIVITY_EVENT_TYPES.filter((t) => streamOf(t) === "users") },
  { label: "Roles", types: ACTIVITY_EVENT_TYPES.filter((t) => streamOf(t) === "roles") },
  { label: "API tokens", types: ACTIVITY_EVENT_TYPES.filter((t) => streamOf(t) === "api-tokens") },
];

const subjectKinds = { user: "User", role: "Role", token: "API token" } as const;

export default async function ActivityPage({ searchParams }: { searchParams: SearchParams }) {
  await requirePage("users:read"); // per request (reads the session), never prerendered
  const filters = parseActivityFilters(await searchParams);
  const { entries, nextCursor } = await listActivity(getDb(), filters);
  const isFiltered = Boolean(filters.type || filters.actor || filters.by || filters.from || filters.to);
  const by = parseActorKey(filters.by);
  const byLabel =
    by?.kind === "user"
      ? ((await getDb().user.findUnique({ where: { id: by.userId }, select: { email: true } }))?.email ?? `user ${by.userId}`)
      : by?.kind === "service"
        ? `${by.name} (service)`
        : null;

  return (
    <>
      <PageHeader
        title="Activity"
        description="Every change to users, roles and API tokens, newest first, whoever made it. Times are UTC."
      />
      <FilterForm filters={filters} isFiltered={isFiltered} />
      {byLabel && (
        <p role="status" className="mb-4 text-sm text-zinc-700">
          What <strong className="font-medium text-zinc-900">{byLabel}</strong> did.{" "}
          <Link href={activityHref({ ...filters, by: null })} className="text-zinc-600 underline underline-offset-2">
            Everyone&apos;s activity
          </Link>
        </p>
      )}

      <DataTable
        caption="Activity"
        head={
          <>
            <th scope="col" className="px-4 py-3 whitespace-nowrap">Time</th>
            <th scope="col" className="px-4 py-3">Event</th>
            <th scope="col" className="px-4 py-3">Subject</th>
            <th scope="col" className="px-4 py-3">Details</th>
            <th scope="col" className="px-4 py-3">Actor</th>
          </>
        }
      >
        <tbody className="divide-y divide-zinc-100">
          {entries.map((entry) => (
            <EntryRow key={entry.eventId} entry={entry} />
          ))}
          {entries.length === 0 && (
            <tr>
              <td colSpan={5} className="px-4 py-12 text-center text-zinc-500">
                {isFiltered ? "No events match these filters." : filters.cursor ? "No older events." : "No events yet."}
              </td>
            </tr>
          )}
        </tbody>
      </DataTable>

      {(filters.cursor || nextCursor) && (
        <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
          {filters.cursor ? (
            <Link href={activityHref(filters)} className={buttonClass("secondary")}>
              ← Newest
            </Link>
          ) : (
            <span />
          )}
          {nextCursor && (
            <Link href={activityHref(filters, nextCursor)} className={buttonClass("secondary")}>
              Older events →
            </Link>
          )}
        </nav>
      )}
    </>
  );
}

function FilterForm({ filters, isFiltered }: { filters: ActivityFilters; isFiltered: boolean }) {
  return (
    // Keyed by the filters, so "Clear" and back/forward reset what the fields show.
    <Form
      key={activityHref(filters)}
      action="/activity"
      role="search"
      aria-label="Filter activity"
      className="mb-4 flex flex-wrap items-end gap-3"
    >
      <div className="w-full space-y-1.5 sm:w-52">
        <label htmlFor="activity-type" className="block text-sm font-medium text-zinc-800">
          Type
        </label>
        <select id="activity-type" name="type" defaultValue={filters.type ?? ""} className={inputClass}>
          <option value="">All types</option>
          {typeGroups.map((group) => (
            <optgroup key={group.label} label={group.label}>
              {group.types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </div>
      <div className="w-full space-y-1.5 sm:w-60">
        {/* Before the label: the input stays the last child, aligned with the other fields. */}
        <p id="activity-actor-hint" className="sr-only">
          Matches actors whose service name or email starts with this text.
        </p>
        <label htmlFor="activity-actor" className="block text-sm font-medium text-zinc-800">
          Actor
        </label>
        <input
          id="activity-actor"
          name="actor"
          type="search"
          defaultValue={filters.actor ?? ""}
          placeholder="Service name or email…"
          aria-describedby="activity-actor-hint"
          className={inputClass}
        />
      </div>
      <div className="w-full space-y-1.5 sm:w-52">
        <label htmlFor="activity-from" className="block text-sm font-medium text-zinc-800">
          From (UTC)
        </label>
        <input id="activity-from" name="from" type="datetime-local" defaultValue={filters.from ?? ""} className={inputClass} />
      </div>
      <div className="w-full space-y-1.5 sm:w-52">
        <label htmlFor="activity-to" className="block text-sm font-medium text-zinc-800">
          To (UTC)
        </label>
        <input id="activity-to" name="to" type="datetime-local" defaultValue={filters.to ?? ""} className={inputClass} />
      </div>
      <div className="flex items-center gap-3">
        {filters.by && <input type="hidden" name="by" value={filters.by} />}
        <button type="submit" className={buttonClass("secondary")}>
          Apply filters
        </button>
        {isFiltered && (
          <Link href="/activity" className="py-2 text-sm text-zinc-600 underline-offset-2 hover:underline">
            Clear
          </Link>
        )}
      </div>
    </Form>
  );
}

function EntryRow({ entry }: { entry: ActivityEntry }) {
  const { subject, summary } = entry;
  return (
    <tr className="align-top hover:bg-zinc-50/70">
      <td className="px-4 py-3 whitespace-nowrap text-zinc-600">
        <time dateTime={entry.occurredAt.toISOString()}>{formatDateTime(entry.occurredAt)}</time>
      </td>
      <td className="px-4 py-3">
        <EventTypeBadge type={entry.type} />
      </td>
      <td className="min-w-48 px-4 py-3">
        <span className="mr-1.5 text-xs text-zinc-500">{subjectKinds[subject.kind]}</span>
        <Link
          href={subject.href}
          className="font-medium [overflow-wrap:anywhere] text-zinc-900 underline-offset-2 hover:underline"
        >
          {subject.label}
        </Link>
        {subject.isDeleted && <span className="ml-1.5 text-xs text-zinc-500">(deleted)</span>}
      </td>
      <td className="max-w-md px-4 py-3 text-zinc-700">
        {summary.related && (
          <Link
            href={`/roles/${summary.related.id}`}
            className="mr-1.5 font-medium text-violet-700 underline-offset-2 hover:underline"
          >
            {summary.related.label}
          </Link>
        )}
        {summary.text && <span className="[overflow-wrap:anywhere]">{summary.text}</span>}
        <FieldChanges changes={entry.changes} className={summary.related || summary.text ? "mt-2" : ""} />
        {!summary.related && !summary.text && entry.changes.length === 0 && <span className="text-zinc-400">—</span>}
      </td>
      <td className="min-w-36 px-4 py-3 [overflow-wrap:anywhere] text-zinc-700">
        {entry.actorKey ? (
          <ActorLink actor={entry.actorKey} className="block underline-offset-2 hover:underline">
            {entry.actor}
          </ActorLink>
        ) : (
          <span className="block">{entry.actor}</span>
        )}
        {entry.actorKind === "service" && <span className="block text-xs text-zinc-500">service</span>}
      </td>
    </tr>
  );
}
