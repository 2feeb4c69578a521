/** A one-line summary of a stored role event for the feeds (lib/events/display.ts); null for another module's type. */
import { NO_SUMMARY, type EventSummary } from "@/lib/events/display";
import { rolePayloadSchemas } from "../domain/events";

export function summarizeRoleEvent(type: string, payload: unknown): EventSummary | null {
  switch (type) {
    case "RoleCreated": {
      const p = rolePayloadSchemas.RoleCreated.safeParse(payload);
      if (!p.success) return NO_SUMMARY;
      return { text: p.data.description ? `${p.data.name}: ${p.data.description}` : p.data.name, related: null };
    }
    case "RoleUpdated":
    case "RoleDeleted":
      return NO_SUMMARY;
    default:
      return null;
  }
}
