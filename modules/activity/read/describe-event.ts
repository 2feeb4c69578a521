/**
 * Stored events of every module for the activity feed (server only): the
 * modules' own summaries, and the field changes of updates.
 */
import { fieldChanges, NO_SUMMARY, type EventSummary, type FieldChange } from "@/lib/events/display";
import { summarizeApiTokenEvent } from "@/modules/api-tokens/read/summarize-api-token-event";
import { summarizeRoleEvent } from "@/modules/roles/read/summarize-role-event";
import { summarizeUserEvent } from "@/modules/users/read/summarize-user-event";

/** Field changes are shown for updates only (a creation's are its summary). */
export function readChanges(type: string, raw: unknown): FieldChange[] {
  return type === "UserUpdated" || type === "RoleUpdated" ? fieldChanges(raw) : [];
}

export function summarizeEvent(type: string, payload: unknown): EventSummary {
  return summarizeUserEvent(type, payload) ?? summarizeRoleEvent(type, payload) ?? summarizeApiTokenEvent(type, payload) ?? NO_SUMMARY;
}
