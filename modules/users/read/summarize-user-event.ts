/** A one-line summary of a stored user event for the feeds (lib/events/display.ts); null for another module's type. */
import { NO_SUMMARY, type EventSummary } from "@/lib/events/display";
import { userPayloadSchemas } from "../domain/events";

export function summarizeUserEvent(type: string, payload: unknown): EventSummary | null {
  switch (type) {
    case "UserCreated": {
      const p = userPayloadSchemas.UserCreated.safeParse(payload);
      return p.success ? { text: `${p.data.name} <${p.data.email}>`, related: null } : NO_SUMMARY;
    }
    case "UserLoggedIn": {
      const p = userPayloadSchemas.UserLoggedIn.safeParse(payload);
      return p.success && p.data.ip ? { text: `from ${p.data.ip}`, related: null } : NO_SUMMARY;
    }
    case "RoleAssignedToUser": {
      const p = userPayloadSchemas.RoleAssignedToUser.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return { text: null, related: { kind: "role", id: p.data.roleId, label: p.data.roleName } };
    }
    case "RoleUnassignedFromUser": {
      const p = userPayloadSchemas.RoleUnassignedFromUser.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return {
        text: p.data.reason === "role-deleted" ? "(role deleted)" : null,
        related: { kind: "role", id: p.data.roleId, label: p.data.roleName },
      };
    }
    case "UserUpdated":
    case "UserDeleted":
      return NO_SUMMARY;
    default:
      return null;
  }
}
