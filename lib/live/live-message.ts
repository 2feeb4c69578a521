/**
 * What /api/live sends to the browser (shared by server and client, so no
 * server-only imports). One message per projector batch commit:
 * - `changed`: these aggregates of this stream changed. `ids` holds at most 50
 *   ids (the projector's notification caps them); `truncated` says there may be
 *   more, so a listener must treat the whole stream as changed.
 * - `resync`: the server's database listener reconnected, so notifications may
 *   have been missed: treat everything as changed.
 */
export const LIVE_EVENT = "read-model";

/** The PostgreSQL channel the projector notifies (pg_notify) and each console process LISTENs on. */
export const READ_MODEL_CHANNEL = "read_model";

export type LiveMessage =
  | { kind: "changed"; stream: string; ids: string[]; truncated: boolean }
  | { kind: "resync" };

/** The projector caps a notification's ids at this many (lib/projection/apply-batch.ts). */
export const MAX_NOTIFIED_IDS = 50;

const isStream = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/**
 * Parses an SSE data line; null for anything unexpected (an older or newer
 * server). Any stream is taken: one whose module names no keys only refreshes the page.
 */
export function parseLiveMessage(data: string): LiveMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object") return null;
  const m = raw as Record<string, unknown>;
  if (m.kind === "resync") return { kind: "resync" };
  if (m.kind !== "changed" || !isStream(m.stream) || !Array.isArray(m.ids)) return null;
  const ids = m.ids.filter((id): id is string => typeof id === "string");
  return { kind: "changed", stream: m.stream, ids, truncated: m.truncated === true };
}
