/**
 * The activity feed's filters as they live in the URL (`?type=&actor=&by=&from=&to=&cursor=`).
 * Parsing never throws: a value that does not parse is dropped, so an edited
 * or outdated link still shows a feed. Times are UTC, like every time the
 * console shows (lib/ui/format.ts).
 */
import { parseActorKey } from "@/lib/events/actor-filter";
import { app, type DomainEventType } from "@/modules";

export const ACTIVITY_EVENT_TYPES = Object.keys(app.registry) as DomainEventType[];

export interface ActivityFilters {
  type: DomainEventType | null;
  /** A service name or a user's email, matched case-insensitively as a prefix. */
  actor: string | null;
  /** One actor exactly: `user:<uuid>` or `service:<name>` (lib/events/actor-filter.ts; the actor links). */
  by: string | null;
  /** `YYYY-MM-DDTHH:mm` (datetime-local), UTC, inclusive. */
  from: string | null;
  /** `YYYY-MM-DDTHH:mm` (datetime-local), UTC, inclusive of that whole minute. */
  to: string | null;
  cursor: string | null;
}

type SearchParams = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
const isEventType = (v: unknown): v is DomainEventType =>
  typeof v === "string" && (ACTIVITY_EVENT_TYPES as string[]).includes(v);

const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** A datetime-local value read as UTC, or null. */
export function parseLocalDateTime(value: string | null | undefined): Date | null {
  if (!value || !LOCAL_DATETIME.test(value)) return null;
  const date = new Date(`${value}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function parseActivityFilters(params: SearchParams): ActivityFilters {
  const type = first(params.type);
  const actor = first(params.actor)?.trim().slice(0, 254);
  const from = first(params.from);
  const to = first(params.to);
  const by = first(params.by);
  return {
    type: isEventType(type) ? type : null,
    actor: actor || null,
    by: parseActorKey(by) ? by! : null,
    from: parseLocalDateTime(from) ? from! : null,
    to: parseLocalDateTime(to) ? to! : null,
    cursor: first(params.cursor) || null,
  };
}

/** The feed's URL for these filters (the cursor only when given). */
export function activityHref(filters: Omit<ActivityFilters, "cursor">, cursor?: string): string {
  const query = new URLSearchParams();
  if (filters.type) query.set("type", filters.type);
  if (filters.actor) query.set("actor", filters.actor);
  if (filters.by) query.set("by", filters.by);
  if (filters.from) query.set("from", filters.from);
  if (filters.to) query.set("to", filters.to);
  if (cursor) query.set("cursor", cursor);
  const s = query.toString();
  return s ? `/activity?${s}` : "/activity";
}
