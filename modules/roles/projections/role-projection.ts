/** Pure projection of role events (see modules/users/projections/user-projection.ts). */
import { timelineRow, type Position, type TimelineRow } from "@/lib/projection/timeline";
import type { RoleEvent } from "../domain/events";
import { evolveRole, roleChanges, type RoleState } from "../domain/role-state";

export function projectRoleEvent(states: Map<string, RoleState | null>, event: RoleEvent, position: Position): TimelineRow {
  const before = states.get(event.aggregateId) ?? null;
  const after = evolveRole(before, event);
  states.set(event.aggregateId, after);
  const changes = event.type === "RoleUpdated" || event.type === "RoleCreated" ? roleChanges(before, after) : null;
  return timelineRow(event, position, changes);
}
