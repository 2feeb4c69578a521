import { describe, expect, it } from "vitest";
import { fieldHistories, type TimelineEntry } from "./user-timeline";

const actor = { kind: "service", name: "importer" } as const;
const entry = (sequence: number, type: string, changes: TimelineEntry["changes"]): TimelineEntry => ({
  eventId: `e${sequence}`,
  sequence,
  type,
  schemaVersion: 1,
  occurredAt: new Date(Date.UTC(2026, 0, sequence)).toISOString(),
  actor,
  correlationId: "c",
  causationId: null,
  changes,
  roleName: null,
  reason: null,
  payload: {},
});

describe("fieldHistories", () => {
  it("lists every value each field had, newest first, with the event that set it", () => {
    const history = fieldHistories([
      entry(1, "UserCreated", [
        { field: "email", before: null, after: "ada@example.com" },
        { field: "name", before: null, after: "Ada" },
      ]),
      entry(3, "UserUpdated", [{ field: "email", before: "ada@example.com", after: "ada@lovelace.org" }]),
      entry(2, "UserLoggedIn", []),
      entry(4, "UserUpdated", [
        { field: "email", before: "ada@lovelace.org", after: "ada@example.com" },
        { field: "name", before: "Ada", after: "Ada Lovelace" },
      ]),
    ]);
    expect(history.email.map((v) => [v.sequence, v.value])).toEqual([
      [4, "ada@example.com"],
      [3, "ada@lovelace.org"],
      [1, "ada@example.com"],
    ]);
    expect(history.name.map((v) => [v.sequence, v.value])).toEqual([
      [4, "Ada Lovelace"],
      [1, "Ada"],
    ]);
    expect(history.email[0]).toMatchObject({ eventId: "e4", actor });
  });

  it("ignores fields that are not profile fields", () => {
    expect(fieldHistories([entry(1, "UserUpdated", [{ field: "shoeSize", before: null, after: "42" }])])).toEqual({ email: [], name: [] });
  });
});
