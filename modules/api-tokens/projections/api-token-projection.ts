/**
 * The API tokens' projection: a timeline only (`api_token_events`, what the
 * activity feed shows). A token has two events at most, so its state is folded
 * again from its timeline rows rather than kept in a table of its own; the
 * tokens page reads the command side's `api_tokens`, which holds what the log
 * never does (the secret's digest, the last use).
 */
import type { BatchTx, SqlTx } from "@/lib/sql-tx";
import {
  envelopeOfRow,
  insertTimeline,
  repairStreamHeads,
  timelineRow,
  type Position,
  type StoredTimelineRow,
  type TimelineRow,
} from "@/lib/projection/timeline";
import { STREAM } from "@/modules/streams";
import { evolveApiToken, type ApiTokenState } from "../domain/api-token";
import type { ApiTokenEvent } from "../domain/events";

export const API_TOKEN_TIMELINE = { table: "api_token_events", idColumn: "api_token_id" } as const;

/** Applies one event to the states map and returns its timeline row. Throws CannotApplyEventError. */
export function projectApiTokenEvent(states: Map<string, ApiTokenState | null>, event: ApiTokenEvent, position: Position): TimelineRow {
  states.set(event.aggregateId, evolveApiToken(states.get(event.aggregateId) ?? null, event));
  return timelineRow(event, position, null);
}

export async function loadApiTokens(tx: SqlTx, ids: readonly string[]): Promise<Map<string, ApiTokenState | null>> {
  const states = new Map<string, ApiTokenState | null>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<StoredTimelineRow[]>`
    SELECT event_id::text, api_token_id::text AS aggregate_id, sequence, type, schema_version, occurred_at, actor,
      correlation_id, causation_id, payload
    FROM api_token_events WHERE api_token_id = ANY(${unique}::uuid[]) ORDER BY api_token_id, sequence`;
  for (const r of rows) {
    const event = envelopeOfRow(r) as ApiTokenEvent;
    states.set(r.aggregate_id, evolveApiToken(states.get(r.aggregate_id) ?? null, event));
  }
  return states;
}

export async function saveApiTokens(
  tx: BatchTx,
  states: Map<string, ApiTokenState | null>,
  timeline: TimelineRow[],
  { rebuild }: { rebuild: boolean },
) {
  await insertTimeline(tx, API_TOKEN_TIMELINE, timeline);
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is ApiTokenState => !!s);
  if (!rebuild) repairStreamHeads(tx, STREAM.apiTokens.headType, touched);
}
