/**
 * Pure projection of user events into read-model rows: the new state of each
 * user touched and one timeline row per event. The projector does the I/O
 * (./user-read-model.ts).
 */
import { timelineRow, type Position, type TimelineRow } from "@/lib/projection/timeline";
import type { UserEvent } from "../domain/events";
import { evolveUser, userChanges, type UserState } from "../domain/user-state";

/** Applies one user event to the states map and returns its timeline row. Throws CannotApplyEventError. */
export function projectUserEvent(states: Map<string, UserState | null>, event: UserEvent, position: Position): TimelineRow {
  const before = states.get(event.aggregateId) ?? null;
  const after = evolveUser(before, event);
  states.set(event.aggregateId, after);
  const changes =
    event.type === "UserUpdated" || event.type === "UserCreated" ? userChanges(before, after) : null;
  return timelineRow(event, position, changes);
}
