/**
 * Evidence for PERFORMANCE.md: the projector's pure fold (projectUserEvent) on
 * the default backlog's 50k events, as it is and with timelineRow writing the
 * three position fields explicitly instead of spreading `...position` first.
 * `node --import tsx bench/probe-timeline-row.ts` (no database, no Kafka).
 */
import { generateBacklog } from "./dataset";
import type { FieldChanges, Position, TimelineRow } from "@/lib/projection/timeline";
import { decodeEvent, encodeEvent, type DomainEvent } from "@/modules";
import { projectUserEvent } from "@/modules/users/projections/user-projection";
import type { UserEvent } from "@/modules/users/domain/events";
import { evolveUser, userChanges, type UserState } from "@/modules/users/domain/user-state";
const roles = Array.from({ length: 20 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, name: `Role ${i}` }));
const spec = { runHex: "abcdef01", users: 20000, heavyEvents: 5000, events: 50000, roles };
const evs: UserEvent[] = [];
for (const e of generateBacklog(spec)) { const m = encodeEvent(e); const d = decodeEvent(m.value, "users", m.key); if (d.ok) evs.push(d.event as UserEvent); }
function timelineRowFixed(e: DomainEvent, position: Position, changes: FieldChanges | null): TimelineRow {
  return { topic: position.topic, partition: position.partition, offset: position.offset, eventId: e.id, aggregateId: e.aggregateId, sequence: e.sequence, type: e.type, schemaVersion: e.schemaVersion, occurredAt: e.occurredAt, actor: e.actor, correlationId: e.correlationId, causationId: e.causationId, payload: e.payload, changes };
}
function projectFixed(states: Map<string, UserState | null>, event: UserEvent, position: Position): TimelineRow {
  const before = states.get(event.aggregateId) ?? null;
  const after = evolveUser(before, event);
  states.set(event.aggregateId, after);
  const changes = event.type === "UserUpdated" || event.type === "UserCreated" ? userChanges(before, after) : null;
  return timelineRowFixed(event, position, changes);
}
const variants = [
  ["current projectUserEvent", projectUserEvent],
  ["timelineRow with explicit position fields", projectFixed],
  ["current, again", projectUserEvent],
  ["explicit, again", projectFixed],
] as const;
for (const [name, f] of variants) {
  const states = new Map<string, UserState | null>();
  const t = performance.now();
  let i = 0;
  for (const e of evs) f(states, e, { topic: "users", partition: 0, offset: String(i++) });
  console.log(name, evs.length, "events:", (performance.now() - t).toFixed(1), "ms");
}
