import { describe, expect, it } from "vitest";
import { fixtureApp, thingEvent, thingEvents, type ThingEvent } from "@/test/fixture-module";
import { compose } from "@/lib/module";
import { createSerde } from "./codec";
import { upcast, UnreadableEventError, type EventRegistry } from "./upcast";

const id = "00000000-0000-4000-8000-000000000001";
const serde = createSerde<ThingEvent>(fixtureApp.registry);

describe("the serde", () => {
  it("round-trips every event type with type and schemaVersion in headers, key = aggregate id", () => {
    const events = [
      thingEvent("ThingCreated", id, 1, { name: "a", colour: "red" }),
      thingEvent("ThingRenamed", id, 2, { name: "b" }),
    ];
    for (const e of events) {
      const message = serde.encode(e);
      expect(message.key).toBe(e.aggregateId);
      expect(message.headers).toMatchObject({ type: e.type, schemaVersion: String(e.schemaVersion) });
      expect(serde.decode(Buffer.from(message.value), "things", message.key)).toEqual({ ok: true, event: e });
    }
  });

  it("refuses to encode an invalid event (a bug must not reach the log)", () => {
    expect(() => serde.encode(thingEvent("ThingRenamed", id, 1, { name: "" }))).toThrow();
  });

  it.each([
    ["not JSON", "{oops", /not JSON/],
    ["an empty message", "", /empty/],
    ["a missing envelope field", JSON.stringify({ type: "ThingCreated" }), /invalid envelope/],
    ["an unknown type", JSON.stringify({ ...thingEvent("ThingRenamed", id, 1, { name: "x" }), type: "ThingTeleported" }), /unknown event type/],
    ["a bad payload", JSON.stringify(thingEvent("ThingRenamed", id, 1, { name: "" })), /invalid ThingRenamed payload/],
    ["a newer schema version", JSON.stringify({ ...thingEvent("ThingRenamed", id, 1, { name: "x" }), schemaVersion: 9 }), /newer/],
  ])("explains why it cannot read %s", (_, value, reason) => {
    const result = serde.decode(value, "things");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it("refuses text PostgreSQL cannot store: U+0000 and half a surrogate pair, escaped in valid JSON", () => {
    const named = (name: string) => JSON.stringify(thingEvent("ThingRenamed", id, 1, { name }));
    expect(serde.decode(named("Nul \u0000 byte"), "things")).toMatchObject({ ok: false, reason: expect.stringMatching(/U\+0000/) });
    for (const half of ["\ud800", "\udfff", "x\udbff"]) {
      const value = Buffer.from(named(`Half ${half} pair`)); // JSON.stringify writes it as a \udXXX escape
      expect(value.toString()).toMatch(/\\ud[89a-f]/);
      expect(serde.decode(value, "things")).toMatchObject({ ok: false, reason: expect.stringMatching(/surrogate/) });
    }
    // A whole pair, escaped or not, is an ordinary character.
    expect(serde.decode(named("Smile \ud83d\ude00"), "things")).toMatchObject({ ok: true });
    expect(serde.decode(named("Smile 😀").replace("😀", "\\ud83d\\ude00"), "things")).toMatchObject({ ok: true });
  });

  it("refuses an event on the wrong topic or under the wrong key", () => {
    const value = JSON.stringify(thingEvent("ThingRenamed", id, 1, { name: "x" }));
    expect(serde.decode(value, "others")).toMatchObject({ ok: false, reason: expect.stringMatching(/things topic, not others/) });
    expect(serde.decode(value, "things", "someone-else")).toMatchObject({ ok: false });
  });

  it("reads a parsed envelope (a timeline row's) the same way", () => {
    const e = thingEvent("ThingRenamed", id, 1, { name: "x" });
    expect(serde.read(JSON.parse(JSON.stringify(e)), "things")).toEqual({ ok: true, event: e });
    expect(serde.streamOf("ThingRenamed")).toBe("things");
    expect(serde.schemaVersion("ThingCreated")).toBe(3);
  });

  it("refuses two modules declaring one event type", () => {
    expect(() => compose([fixtureApp.modules[0]!, fixtureApp.modules[0]!])).toThrow(/declared by two modules/);
  });
});

describe("upcasting", () => {
  it("reads a stream that mixes versions as the current version", () => {
    const base = thingEvent("ThingCreated", id, 1, { name: "n", colour: null });
    const stream = [
      { ...base, schemaVersion: 1, payload: { label: "one" } },
      { ...base, schemaVersion: 2, payload: { name: "two" } },
      { ...base, schemaVersion: 3, payload: { name: "three", colour: "blue" } },
    ];
    const read = stream.map((e) => serde.decode(JSON.stringify(e), "things", id));
    expect(read.map((r) => r.ok && r.event.payload)).toEqual([
      { name: "one", colour: null },
      { name: "two", colour: null },
      { name: "three", colour: "blue" },
    ]);
    expect(read.every((r) => r.ok && r.event.schemaVersion === 3)).toBe(true);
  });

  it("fails clearly when a step is missing", () => {
    const broken: EventRegistry = {
      ...fixtureApp.registry,
      ThingCreated: { ...fixtureApp.registry.ThingCreated!, upcasters: { 2: thingEvents.ThingCreated.upcasters[2] } },
    };
    const old = { ...thingEvent("ThingCreated", id, 1, { name: "n", colour: null }), schemaVersion: 1 };
    expect(() => upcast(old, broken)).toThrow(UnreadableEventError);
    expect(() => upcast(old, broken)).toThrow(/no upcaster for ThingCreated v1 → v2/);
  });
});
