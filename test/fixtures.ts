/** Builders for events in unit tests (pure: no I/O). */
import { randomUUID } from "node:crypto";
import type { Actor } from "@/lib/events/envelope";
import type { DomainEvent } from "@/modules";

export const testActor: Actor = { kind: "service", name: "unit-test" };

type Body<T extends DomainEvent["type"]> = Extract<DomainEvent, { type: T }>["payload"];

let clock = Date.parse("2026-01-01T00:00:00.000Z");

/** An event of `type` for `aggregateId` at `sequence`, with fresh id and a clock that advances. */
export function event<T extends DomainEvent["type"]>(
  type: T,
  aggregateId: string,
  sequence: number,
  payload: Body<T>,
): Extract<DomainEvent, { type: T }> {
  clock += 1000;
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    aggregateId,
    sequence,
    occurredAt: new Date(clock).toISOString(),
    actor: testActor,
    correlationId: randomUUID(),
    causationId: null,
    payload,
  } as Extract<DomainEvent, { type: T }>;
}
