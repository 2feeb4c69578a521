/**
 * The API tokens' projection: a timeline only (`api_token_events`, what the
 * activity feed shows). A token has two events at most, so its state is folded
 * again from its timeline rows rather than kept in a table of its own; the
 * tokens page reads the command side's `api_tokens`, which holds what the log
 * never does (the secret's digest, the last use).
 */
import type { Tx } from "@/lib/command/execute";
import type { Actor } from "@/lib/events/envelope";
import { insertTimeline, repairStreamHeads, timelineRow, type Position, type TimelineRow } from "@/lib/projection/timeline";
import { STREAM } from "@/modules/streams";
import { evolveApiToken, type ApiTokenState } from "../domain/api-token";
import type { ApiTokenEvent } from "../domain/events";

export const API_TOKEN_TIMELINE = { table: "api_token_events", idColumn: "api_token_id" } as const;

/** Applies one event to the states map and returns its timeline row. Throws CannotApplyEventError. */
export function projectApiTokenEvent(states: Map<string, ApiTokenState | null>, event: ApiTokenEvent, position: Position): TimelineRow {
  states.set(event.aggregateId, evolveApiToken(states.get(event.aggregateId) ?? null, event));
  return timelineRow(event, position, null);
}

export async function loadApiTokens(tx: Tx, ids: readonly string[]): Promise<Map<string, ApiTokenState | null>> {
  const states = new Map<string, ApiTokenState | null>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return states;
  const rows = await tx.$queryRaw<
    { event_id: string; api_token_id: string; sequence: number; type: ApiTokenEvent["type"]; schema_version: number; occurred_at: Date; actor: Actor; correlation_id: string; causation_id: string | null; payload: ApiTokenEvent["payload"] }[]
  >`SELECT event_id::text, api_token_id::text, sequence, type, schema_version, occurred_at, actor, correlation_id, causation_id, payload
    FROM api_token_events WHERE api_token_id = ANY(${unique}::uuid[]) ORDER BY api_token_id, sequence`;
  for (const r of rows) {
    const event = {
      id: r.event_id,
      type: r.type,
      schemaVersion: r.schema_version,
      aggregateId: r.api_token_id,
      sequence: r.sequence,
      occurredAt: r.occurred_at.toISOString(),
      actor: r.actor,
      correlationId: r.correlation_id,
      causationId: r.causation_id,
      payload: r.payload,
    } as ApiTokenEvent;
    states.set(r.api_token_id, evolveApiToken(states.get(r.api_token_id) ?? null, event));
  }
  return states;
}

export async function saveApiTokens(
  tx: Tx,
  states: Map<string, ApiTokenState | null>,
  timeline: TimelineRow[],
  { rebuild }: { rebuild: boolean },
) {
  await insertTimeline(tx, API_TOKEN_TIMELINE, timeline);
  const touched = [...new Set(timeline.map((t) => t.aggregateId))]
    .map((id) => states.get(id))
    .filter((s): s is ApiTokenState => !!s);
  if (!rebuild) await repairStreamHeads(tx, STREAM.apiTokens.headType, touched);
}
