/**
 * Reading stored events for display (server only), whatever their module:
 * who did it and which fields changed. Rows come from the read model, so each
 * part is parsed rather than trusted. What an event type means (its summary)
 * is its module's (e.g. modules/users/read/summarize-user-event.ts).
 */
import type { ActorKey } from "./actor-filter";
import { actorSchema } from "./envelope";

export interface ActorLabel {
  /** A service's name or an admin's email. */
  actor: string;
  actorKind: "user" | "service" | "unknown";
  /** The actor by id, for the link to what they did (lib/events/actor-filter.ts); null if unreadable. */
  actorKey: ActorKey | null;
}

export interface FieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

export interface EventSummary {
  text: string | null;
  /** Another aggregate the event names (e.g. the role in RoleAssignedToUser). */
  related: { kind: "role"; id: string; label: string } | null;
}

export const NO_SUMMARY: EventSummary = { text: null, related: null };

export function describeActor(raw: unknown): ActorLabel {
  const parsed = actorSchema.safeParse(raw);
  if (!parsed.success) return { actor: "unknown", actorKind: "unknown", actorKey: null };
  const actor = parsed.data;
  return actor.kind === "user"
    ? { actor: actor.email, actorKind: "user", actorKey: { kind: "user", userId: actor.userId } }
    : { actor: actor.name, actorKind: "service", actorKey: { kind: "service", name: actor.name } };
}

/** A timeline row's `changes`, `{ field: { before, after } }` (lib/projection/timeline.ts), as text. */
export function fieldChanges(raw: unknown): FieldChange[] {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>).map(([field, change]) => {
    const c = (change ?? {}) as { before?: unknown; after?: unknown };
    return { field, before: asText(c.before), after: asText(c.after) };
  });
}

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
