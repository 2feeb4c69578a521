/**
 * Reading stored events for display (server only): who did it, what changed,
 * and a one-line summary. Shared by the activity feed and the role history.
 * Rows come from the read model, so every payload is parsed with its schema
 * rather than trusted; a payload that does not parse simply has no summary.
 */
import { actorSchema } from "@/lib/events/envelope";
import { rolePayloadSchemas } from "@/modules/roles/domain/events";
import { userPayloadSchemas } from "@/modules/users/domain/events";

export interface ActorLabel {
  /** A service's name or an admin's email. */
  actor: string;
  actorKind: "user" | "service" | "unknown";
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

export function describeActor(raw: unknown): ActorLabel {
  const parsed = actorSchema.safeParse(raw);
  if (!parsed.success) return { actor: "unknown", actorKind: "unknown" };
  const actor = parsed.data;
  return actor.kind === "user" ? { actor: actor.email, actorKind: "user" } : { actor: actor.name, actorKind: "service" };
}

/** `changes` is `{ field: { before, after } }` (userChanges / roleChanges in the domain); shown for updates only. */
export function readChanges(type: string, raw: unknown): FieldChange[] {
  if (type !== "UserUpdated" && type !== "RoleUpdated") return [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>).map(([field, change]) => {
    const c = (change ?? {}) as { before?: unknown; after?: unknown };
    return { field, before: asText(c.before), after: asText(c.after) };
  });
}

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const none: EventSummary = { text: null, related: null };

export function summarizeEvent(type: string, payload: unknown): EventSummary {
  switch (type) {
    case "UserCreated": {
      const p = userPayloadSchemas.UserCreated.safeParse(payload);
      return p.success ? { text: `${p.data.name} <${p.data.email}>`, related: null } : none;
    }
    case "UserLoggedIn": {
      const p = userPayloadSchemas.UserLoggedIn.safeParse(payload);
      return p.success && p.data.ip ? { text: `from ${p.data.ip}`, related: null } : none;
    }
    case "RoleAssignedToUser": {
      const p = userPayloadSchemas.RoleAssignedToUser.safeParse(payload);
      if (!p.success) return none;
      return { text: null, related: { kind: "role", id: p.data.roleId, label: p.data.roleName } };
    }
    case "RoleUnassignedFromUser": {
      const p = userPayloadSchemas.RoleUnassignedFromUser.safeParse(payload);
      if (!p.success) return none;
      return {
        text: p.data.reason === "role-deleted" ? "(role deleted)" : null,
        related: { kind: "role", id: p.data.roleId, label: p.data.roleName },
      };
    }
    case "RoleCreated": {
      const p = rolePayloadSchemas.RoleCreated.safeParse(payload);
      if (!p.success) return none;
      return { text: p.data.description ? `${p.data.name}: ${p.data.description}` : p.data.name, related: null };
    }
    default:
      return none;
  }
}
