import { describe, expect, it } from "vitest";
import { liveInvalidations } from "@/lib/live/live-invalidations";
import { live } from "./live";
import { userKeys } from "@/modules/users/ui/user-query-keys";

const u1 = "00000000-0000-4000-8000-000000000001";
const u2 = "00000000-0000-4000-8000-000000000002";

/** Whether invalidating `prefix` reaches a query with `key` (TanStack's partial matching). */
const reaches = (prefix: readonly unknown[], key: readonly unknown[]) =>
  prefix.every((part, i) => JSON.stringify(part) === JSON.stringify(key[i]));

describe("live invalidations of the users and roles modules", () => {
  it("a users batch reaches those users' timelines and time-travel states, no one else's", () => {
    const keys = liveInvalidations({ kind: "changed", stream: "users", ids: [u1, u2], truncated: false }, live);
    expect(keys).toEqual([userKeys.detail(u1), userKeys.detail(u2)]);
    expect(keys.some((k) => reaches(k, userKeys.timeline(u1, { type: null })))).toBe(true);
    expect(keys.some((k) => reaches(k, userKeys.stateAt(u2, 3)))).toBe(true);
    expect(keys.some((k) => reaches(k, userKeys.timeline("00000000-0000-4000-8000-000000000009", { type: null })))).toBe(false);
  });
  it("capped ids widen to every user's details; a resync to every user key", () => {
    expect(liveInvalidations({ kind: "changed", stream: "users", ids: [u1], truncated: true }, live)).toEqual([userKeys.details()]);
    expect(liveInvalidations({ kind: "resync" }, live)).toEqual([userKeys.all]);
  });
  it("a roles batch invalidates no query (no client query shows a role); the page refresh does the rest", () => {
    expect(liveInvalidations({ kind: "changed", stream: "roles", ids: [u1], truncated: false }, live)).toEqual([]);
  });
});
