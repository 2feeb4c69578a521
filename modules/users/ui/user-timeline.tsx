"use client";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { ActorLink } from "@/lib/ui/actor-link";
import { EventTypeBadge } from "@/lib/ui/event-display";
import { Spinner } from "@/lib/ui/form-controls";
import { RelativeTime } from "@/lib/ui/relative-time";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import { userEventTypes, type UserEventType } from "@/modules/users/domain/events";
import { summarizeUserEvent } from "@/modules/users/read/summarize-user-event";
import type { TimelineEntry, TimelinePage } from "@/modules/users/read/user-timeline";
import { actorLabel } from "./actor-label";
import { StateAtDialog } from "./state-at-dialog";
import { userKeys } from "./user-query-keys";

async function fetchTimelinePage(
  userId: string,
  type: UserEventType | null,
  before: number | null,
  signal: AbortSignal,
): Promise<TimelinePage> {
  const query = new URLSearchParams();
  if (type) query.set("type", type);
  if (before !== null) query.set("before", String(before));
  const response = await fetch(`/api/users/${userId}/timeline?${query}`, { signal, cache: "no-store" });
  if (!response.ok) throw new Error(`The timeline could not be loaded (HTTP ${response.status}).`);
  return (await response.json()) as TimelinePage;
}

/**
 * The user's audit timeline, newest first, loaded page by page as the admin
 * scrolls (the first page comes server-rendered). Each entry can show the
 * user's whole state right after it (time travel).
 */
export function UserTimeline({
  userId,
  version,
  initialPage,
  startAt = null,
}: {
  userId: string;
  /** The user's version the page was rendered at: a cached timeline older than that is refetched. */
  version: number;
  initialPage: TimelinePage;
  /** Show the timeline from this event back (a link to an entry: `?event=N#event-N`). */
  startAt?: number | null;
}) {
  const [type, setType] = useState<UserEventType | null>(null);
  const [stateAt, setStateAt] = useState<number | null>(null);
  const queryClient = useQueryClient();
  const filterId = useId();
  const queryKey = userKeys.timeline(userId, { type, startAt });
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) => fetchTimelinePage(userId, type, pageParam, signal),
    initialPageParam: startAt === null ? null : ((startAt + 1) as number | null),
    getNextPageParam: (last) => last.nextBefore,
    initialData: type === null ? { pages: [initialPage], pageParams: [null] } : undefined,
  });

  // The server re-rendered the page at a newer version (after a change, or a
  // router refresh) while this cache still holds the older timeline.
  const cachedVersion = query.data?.pages[0]?.version;
  useEffect(() => {
    if (cachedVersion !== undefined && cachedVersion < version) {
      void queryClient.invalidateQueries({ queryKey: userKeys.timelines(userId) });
    }
  }, [cachedVersion, version, userId, queryClient]);

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasNextPage) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: "400px 0px" },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const entries = query.data?.pages.flatMap((p) => p.entries) ?? [];

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="min-w-48 space-y-1.5">
          <label htmlFor={filterId} className="block text-sm font-medium text-zinc-800">
            Event type
          </label>
          <select
            id={filterId}
            value={type ?? ""}
            onChange={(e) => setType(e.target.value === "" ? null : (e.target.value as UserEventType))}
            className={inputClass}
          >
            <option value="">All events</option>
            {userEventTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="flex gap-2">
          <a href={`/api/users/${userId}/timeline/export?format=json`} download className={buttonClass("secondary", "sm")}>
            Export JSON
          </a>
          <a href={`/api/users/${userId}/timeline/export?format=csv`} download className={buttonClass("secondary", "sm")}>
            Export CSV
          </a>
        </div>
      </div>

      {query.isPending ? (
        <p role="status" className="flex items-center gap-2 text-sm text-zinc-500">
          <Spinner /> Loading events…
        </p>
      ) : query.isError && entries.length === 0 ? (
        <p role="alert" className="text-sm text-red-700">
          {query.error.message}{" "}
          <button type="button" onClick={() => void query.refetch()} className="font-medium underline underline-offset-2">
            Try again
          </button>
        </p>
      ) : entries.length === 0 ? (
        <p className="text-sm text-zinc-500">{type ? `No ${type} events.` : "No events yet."}</p>
      ) : (
        <>
          {startAt !== null && (
            <p className="text-xs text-zinc-500">
              From event #{startAt} back.{" "}
              <a href={`/users/${userId}`} className="font-medium text-zinc-700 underline underline-offset-2">
                Show the newest events
              </a>
            </p>
          )}
          <ol aria-label="Timeline" className="relative space-y-5 border-l border-zinc-200 pl-5">
            {entries.map((e) => (
              <TimelineItem
                key={e.eventId}
                entry={e}
                isTarget={e.sequence === startAt}
                onViewState={() => setStateAt(e.sequence)}
              />
            ))}
          </ol>
        </>
      )}

      <div ref={sentinel} aria-hidden="true" />
      {hasNextPage && (
        <button
          type="button"
          onClick={() => void fetchNextPage()}
          disabled={isFetchingNextPage}
          className={buttonClass("secondary", "sm")}
        >
          {isFetchingNextPage && <Spinner />}
          {isFetchingNextPage ? "Loading older events…" : "Load older events"}
        </button>
      )}
      {!hasNextPage && entries.length > 0 && !query.isPending && (
        <p className="text-xs text-zinc-400">Beginning of the history.</p>
      )}

      {stateAt !== null && (
        <StateAtDialog userId={userId} sequence={stateAt} latest={version} onClose={() => setStateAt(null)} />
      )}
    </div>
  );
}

function TimelineItem({ entry: e, isTarget, onViewState }: { entry: TimelineEntry; isTarget: boolean; onViewState: () => void }) {
  return (
    <li
      id={`event-${e.sequence}`}
      aria-current={isTarget ? "true" : undefined}
      className={isTarget ? "relative scroll-mt-20 rounded-md bg-amber-50 ring-4 ring-amber-50" : "relative scroll-mt-20"}
    >
      <span
        aria-hidden="true"
        className="absolute top-1.5 -left-[25px] size-2.5 rounded-full border-2 border-white bg-zinc-400"
      />
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <EventTypeBadge type={e.type} />
        <span className="text-xs text-zinc-400 tabular-nums">#{e.sequence}</span>
        <Summary entry={e} />
      </div>
      {e.changes.length > 0 && (
        <dl
          aria-label={e.type === "UserCreated" ? "Initial values" : "Changes"}
          className="mt-2 space-y-1 rounded-md bg-zinc-50 px-3 py-2 text-xs ring-1 ring-zinc-100"
        >
          {e.changes.map((c) => (
            <div key={c.field} className="flex flex-wrap gap-x-2">
              <dt className="font-medium text-zinc-600">{c.field}</dt>
              <dd className="min-w-0 break-all text-zinc-800">
                {e.type === "UserCreated" ? (
                  <span>{c.after ?? "(none)"}</span>
                ) : (
                  <>
                    <del className="text-zinc-500">{c.before ?? "(none)"}</del>
                    <span className="text-zinc-400" aria-label="changed to">
                      {" "}
                      →{" "}
                    </span>
                    <ins className="no-underline">{c.after ?? "(none)"}</ins>
                  </>
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <p className="mt-1 text-xs text-zinc-500">
        by <ActorLink actor={e.actor}>{actorLabel(e.actor)}</ActorLink> · <RelativeTime iso={e.occurredAt} />
      </p>
      <div className="mt-1 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-zinc-500">
        <span className="min-w-0 break-all">
          correlation <code className="rounded bg-zinc-100 px-1 py-0.5 font-mono text-[11px] text-zinc-700">{e.correlationId}</code>
        </span>
        <button
          type="button"
          onClick={onViewState}
          aria-haspopup="dialog"
          className="font-medium text-zinc-700 underline underline-offset-2 hover:text-zinc-900"
        >
          View state at this point
        </button>
      </div>
    </li>
  );
}

function Summary({ entry: e }: { entry: TimelineEntry }) {
  const strong = (text: string) => <strong className="font-medium text-zinc-900">{text}</strong>;
  let content: ReactNode = null;
  switch (e.type) {
    case "UserCreated":
      content = "Created";
      break;
    case "UserUpdated":
      content = `Changed ${e.changes.map((c) => c.field).join(" and ") || "the profile"}`;
      break;
    case "UserDeleted":
      content = "Deleted";
      break;
    case "UserLoggedIn": {
      const p = (e.payload ?? {}) as { ip?: string | null; userAgent?: string | null };
      content = `Logged in${p.ip ? ` from ${p.ip}` : ""}${p.userAgent ? ` (${p.userAgent})` : ""}`;
      break;
    }
    case "UserPasswordSet":
    case "UserSessionsEnded":
    case "UserLoginFailed":
    case "UserLoggedOut":
    case "UserErased":
      content = summarizeUserEvent(e.type, e.payload)?.text ?? null;
      break;
    case "RoleAssignedToUser":
      content = <>Assigned role {strong(e.roleName ?? "?")}</>;
      break;
    case "RoleUnassignedFromUser":
      content =
        e.reason === "role-deleted" ? (
          <>Lost role {strong(e.roleName ?? "?")} because the role was deleted</>
        ) : (
          <>Unassigned role {strong(e.roleName ?? "?")}</>
        );
      break;
    default:
      content = null;
  }
  return content ? <span className="text-sm text-zinc-700">{content}</span> : null;
}
