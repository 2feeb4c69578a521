/**
 * A small module for the framework's own tests (lib/): one stream, "things",
 * with two event types, one of which went through two revisions (v1 `label`,
 * v2 renamed to `name`, v3 added `colour`). lib/ is tested with it rather than
 * with a real module, which it must not know.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Event } from "@/lib/events/envelope";
import { compose, defineModule, type EventSpec } from "@/lib/module";
import { CannotApplyEventError, timelineRow } from "@/lib/projection/timeline";

export const THINGS = { name: "things", headType: "thing" } as const;

const thingCreated = z.object({ name: z.string().min(1), colour: z.string().nullable() });
const thingRenamed = z.object({ name: z.string().min(1) });

export type ThingEvent =
  | Event<"ThingCreated", z.infer<typeof thingCreated>>
  | Event<"ThingRenamed", z.infer<typeof thingRenamed>>;

export const thingEvents = {
  ThingCreated: {
    schemaVersion: 3,
    payload: thingCreated,
    upcasters: {
      1: (p) => {
        const { label, ...rest } = p as { label: string };
        return { ...rest, name: label };
      },
      2: (p) => ({ colour: null, ...(p as object) }),
    },
    personal: [],
  },
  ThingRenamed: { schemaVersion: 1, payload: thingRenamed, upcasters: {}, personal: [] },
} satisfies Record<ThingEvent["type"], EventSpec>;

interface ThingState {
  id: string;
  name: string;
  version: number;
}

export const thingsModule = defineModule<ThingState, ThingEvent>({
  name: "things",
  stream: THINGS,
  events: thingEvents,
  projection: {
    timeline: { table: "thing_events", idColumn: "thing_id" },
    tables: ["things", "thing_events"],
    load: async () => new Map(),
    project(states, event, position) {
      const before = states.get(event.aggregateId) ?? null;
      if (event.type === "ThingCreated" ? before : !before) throw new CannotApplyEventError(`${event.type} cannot follow`);
      states.set(event.aggregateId, { id: event.aggregateId, name: event.payload.name, version: event.sequence });
      return timelineRow(event, position, null);
    },
    save: async () => {},
  },
});

export const fixtureApp = compose([thingsModule]);

let clock = Date.parse("2026-01-01T00:00:00.000Z");

/** A thing event at its current version, with a fresh id and a clock that advances. */
export function thingEvent<T extends ThingEvent["type"]>(
  type: T,
  aggregateId: string,
  sequence: number,
  payload: Extract<ThingEvent, { type: T }>["payload"],
): Extract<ThingEvent, { type: T }> {
  clock += 1000;
  return {
    id: randomUUID(),
    type,
    schemaVersion: thingEvents[type].schemaVersion,
    aggregateId,
    sequence,
    occurredAt: new Date(clock).toISOString(),
    actor: { kind: "service", name: "unit-test" },
    correlationId: randomUUID(),
    causationId: null,
    payload,
  } as Extract<ThingEvent, { type: T }>;
}
