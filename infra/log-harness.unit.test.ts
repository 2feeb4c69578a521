import { describe, expect, it } from "vitest";
import { keyPartition } from "@/lib/kafka/partitioner";
import { foldLog, type LogMessage } from "./log-harness";

// A toy aggregate, so the fold's own rules are tested without the domain.
type Counted = { id: string; aggregateId: string; kind: "open" | "add"; by?: number };
class CannotFollow extends Error {}
const evolve = (state: number | null, e: Counted): number => {
  if (e.kind === "open") {
    if (state !== null) throw new CannotFollow("opened twice");
    return 0;
  }
  if (state === null) throw new CannotFollow("add before open");
  if (e.by === undefined) throw new Error("a bug, not a dead letter");
  return state + e.by;
};

let offset = 0;
const message = (value: string, headers: Record<string, string> = {}): LogMessage => ({
  topic: "counters",
  partition: 0,
  offset: String(offset++),
  key: null,
  value: Buffer.from(value),
  headers,
});
const event = (e: Counted, headers?: Record<string, string>) => message(JSON.stringify(e), headers);
const streams = {
  counters: {
    topic: "counters",
    decode: (m: LogMessage) => {
      try {
        return { ok: true as const, event: JSON.parse(m.value?.toString() ?? "") as Counted };
      } catch {
        return { ok: false as const };
      }
    },
    evolve,
  },
};
const fold = (log: LogMessage[]) => foldLog(log, streams, (error) => error instanceof CannotFollow);

describe("foldLog", () => {
  it("folds each aggregate, applies an event id once, and dead-letters what the projector would", () => {
    offset = 0;
    const log = [
      event({ id: "e1", aggregateId: "b", kind: "add", by: 5 }), // before its open: dead-lettered...
      event({ id: "e2", aggregateId: "a", kind: "open" }, { correlationId: "c1" }),
      message("{not json"),
      event({ id: "e3", aggregateId: "a", kind: "add", by: 2 }, { correlationId: "c1" }),
      event({ id: "e3", aggregateId: "a", kind: "add", by: 2 }), // republished: once
      message(JSON.stringify({ id: "e4", aggregateId: "a", kind: "add", by: 1, note: "\u0000" })),
      event({ id: "e5", aggregateId: "b", kind: "open" }),
      event({ id: "e1", aggregateId: "b", kind: "add", by: 5 }), // ...and applied when published again after it
    ];
    const result = fold(log);
    expect([...result.states.counters]).toEqual([
      ["a", 2],
      ["b", 5],
    ]);
    expect([...result.deadLetters]).toEqual(["counters/0/0", "counters/0/2", "counters/0/5"]);
    expect(result.applied.map((a) => a.event.id)).toEqual(["e2", "e3", "e5", "e1"]);
    expect(result.applied[1]?.message.offset).toBe("3");
    expect(result.duplicateIds).toBe(2);
    expect(result.eventIds).toEqual(new Set(["e1", "e2", "e3", "e4", "e5"]));
    expect(result.byCorrelation).toEqual(new Map([["c1", 2]]));
    expect(result.messages).toBe(8);
  });

  it("an error that is not 'cannot apply' is a bug: thrown, not dead-lettered", () => {
    offset = 0;
    expect(() => fold([event({ id: "e1", aggregateId: "a", kind: "open" }), event({ id: "e2", aggregateId: "a", kind: "add" })])).toThrow(
      "a bug, not a dead letter",
    );
  });

  it("given the partition count, dead-letters an event on another partition than its key's", () => {
    offset = 0;
    const on = (partition: number, e: Counted) => ({ ...event(e), partition });
    const home = keyPartition("a", 4);
    const log = [on(home, { id: "e1", aggregateId: "a", kind: "open" }), on((home + 1) % 4, { id: "e2", aggregateId: "a", kind: "add", by: 1 })];
    const result = foldLog(log, streams, (error) => error instanceof CannotFollow, 4);
    expect([...result.states.counters]).toEqual([["a", 0]]);
    expect([...result.deadLetters]).toEqual([`counters/${(home + 1) % 4}/1`]);
    expect(fold(log).states.counters.get("a")).toBe(1); // without the count, partitions are not checked
  });

  it("refuses a message of a topic it has no stream for", () => {
    expect(() => fold([{ ...message("{}"), topic: "elsewhere" }])).toThrow("no stream for topic elsewhere");
  });
});
