/** A one-line summary of a stored API token event for the activity feed; null for another module's type. */
import { NO_SUMMARY, type EventSummary } from "@/lib/events/display";
import { apiTokenPayloadSchemas } from "../domain/events";

export function summarizeApiTokenEvent(type: string, payload: unknown): EventSummary | null {
  if (type !== "ApiTokenCreated" && type !== "ApiTokenRevoked") return null;
  const p = apiTokenPayloadSchemas[type].safeParse(payload);
  if (!p.success) return NO_SUMMARY;
  return { text: `${type === "ApiTokenCreated" ? "API token created" : "API token revoked"}: ${p.data.name} (scope ${p.data.scope})`, related: null };
}
