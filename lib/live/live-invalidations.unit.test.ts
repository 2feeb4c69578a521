import { describe, expect, it } from "vitest";
import type { LiveDefinition } from "@/lib/module";
import { liveInvalidations } from "./live-invalidations";
import { parseLiveMessage } from "./live-message";

const u1 = "00000000-0000-4000-8000-000000000001";
const u2 = "00000000-0000-4000-8000-000000000002";

/** A fixture module's live keys: the framework is tested without a real module. */
const thingKeys = {
  all: ["things"] as const,
  details: () => [...thingKeys.all, "detail"] as const,
  detail: (id: string) => [...thingKeys.details(), id] as const,
};
const live: LiveDefinition[] = [
  {
    stream: "things",
    changed: (ids, truncated) => (truncated ? [thingKeys.details()] : ids.map((id) => thingKeys.detail(id))),
    all: [thingKeys.all],
  },
];

describe("liveInvalidations", () => {
  it("a batch invalidates exactly the keys its stream's module names for those ids", () => {
    expect(liveInvalidations({ kind: "changed", stream: "things", ids: [u1, u2], truncated: false }, live)).toEqual([
      thingKeys.detail(u1),
      thingKeys.detail(u2),
    ]);
    // A stream whose module names no keys (no client query shows it): the page refresh does it all.
    expect(liveInvalidations({ kind: "changed", stream: "quiet", ids: [u1], truncated: false }, live)).toEqual([]);
  });
  it("capped ids widen to what the module says (every detail)", () => {
    const keys = liveInvalidations({ kind: "changed", stream: "things", ids: [u1], truncated: true }, live);
    expect(keys).toEqual([thingKeys.details()]);
  });
  it("a resync invalidates every module's keys", () => {
    expect(liveInvalidations({ kind: "resync" }, live)).toEqual([thingKeys.all]);
  });
});

describe("parseLiveMessage", () => {
  it("reads what /api/live sends and refuses anything else", () => {
    expect(parseLiveMessage(JSON.stringify({ kind: "changed", stream: "things", ids: [u1, 7], truncated: false }))).toEqual({
      kind: "changed",
      stream: "things",
      ids: [u1],
      truncated: false,
    });
    expect(parseLiveMessage(JSON.stringify({ kind: "resync" }))).toEqual({ kind: "resync" });
    expect(parseLiveMessage("not json")).toBeNull();
    expect(parseLiveMessage(JSON.stringify({ kind: "changed", stream: 7, ids: [] }))).toBeNull();
    expect(parseLiveMessage(JSON.stringify({ kind: "changed", stream: "things" }))).toBeNull();
  });
});
