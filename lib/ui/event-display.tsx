/**
 * Pieces for showing stored events (server components): the type badge with
 * one colour per kind of change, and a field's change as before → after.
 */
import type { ActorKey } from "@/lib/events/actor-filter";
import { ActorLink } from "./actor-link";
import type { ReactNode } from "react";
import { Badge, type BadgeTone } from "./badge";
import { formatDateTime } from "./format";

/**
 * The colour of a kind of change, by the past-tense verb event names end with
 * (…Created, …Updated, …Deleted, …Assigned…, …Unassigned…, …Revoked, …Failed,
 * …Ended): any module's
 * events get the same colours without this file naming them.
 */
const eventTones: ReadonlyArray<[RegExp, BadgeTone]> = [
  [/Created$/, "green"],
  [/Updated$/, "blue"],
  [/(Deleted|Revoked|Failed)$/, "red"],
  [/Ended$/, "amber"],
  [/Unassigned/, "amber"],
  [/Assigned/, "violet"],
];

export const eventTone = (type: string): BadgeTone => eventTones.find(([verb]) => verb.test(type))?.[1] ?? "neutral";

export function EventTypeBadge({ type }: { type: string }) {
  return <Badge tone={eventTone(type)}>{type}</Badge>;
}

export function FieldChanges({
  changes,
  className = "mt-2",
}: {
  changes: { field: string; before: string | null; after: string | null }[];
  className?: string;
}) {
  if (changes.length === 0) return null;
  return (
    <dl className={`${className} space-y-1 rounded-md bg-zinc-50 px-3 py-2 text-xs ring-1 ring-zinc-100`}>
      {changes.map((c) => (
        <div key={c.field} className="flex flex-wrap gap-x-2">
          <dt className="font-medium text-zinc-600">{c.field}</dt>
          <dd className="min-w-0 break-all text-zinc-800">
            <span className="text-zinc-500">{c.before || "(none)"}</span>
            <span className="text-zinc-400"> → </span>
            <span>{c.after || "(none)"}</span>
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** "by admin-console (service) · 27 Nov 2026, 09:30:00 UTC" */
export function EventByline({
  actor,
  actorKind,
  actorKey = null,
  occurredAt,
  children,
}: {
  actor: string;
  actorKind: "user" | "service" | "unknown";
  /** Links the name to what the actor did. */
  actorKey?: ActorKey | null;
  occurredAt: Date;
  children?: ReactNode;
}) {
  return (
    <p className="mt-1 text-xs text-zinc-500">
      by <ActorLink actor={actorKey ?? { kind: "unknown" }}>{actor}</ActorLink>
      {actorKind === "service" && " (service)"} ·{" "}
      <time dateTime={occurredAt.toISOString()}>{formatDateTime(occurredAt)}</time>
      {children}
    </p>
  );
}
