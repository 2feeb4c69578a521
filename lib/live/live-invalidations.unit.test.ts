import { describe, expect, it } from "vitest";
import { activityKeys } from "@/modules/activity/ui/activity-query-keys";
import { roleKeys } from "@/modules/roles/ui/role-query-keys";
import { userKeys } from "@/modules/users/ui/user-query-keys";
import { liveInvalidations } from "./live-invalidations";
import { parseLiveMessage } from "./live-message";

const u1 = "00000000-0000-4000-8000-000000000001";
const u2 = "00000000-0000-4000-8000-000000000002";

/** Whether invalidating `prefix` reaches a query with `key` (TanStack's partial matching). */
const reaches = (prefix: readonly unknown[], key: readonly unknown[]) =>
  prefix.every((part, i) => JSON.stringify(part) === JSON.stringify(key[i]));

describe("liveInvalidations", () => {
  it("a users batch invalidates those users (their timelines too), the user lists, role memberships and the feed", () => {
    const keys = liveInvalidations({ kind: "changed", stream: "users", ids: [u1, u2], truncated: false });
    expect(keys).toEqual([userKeys.detail(u1), userKeys.detail(u2), userKeys.lists(), roleKeys.all, activityKeys.all]);
    expect(keys.some((k) => reaches(k, userKeys.timeline(u1, { type: null })))).toBe(true);
    expect(keys.some((k) => reaches(k, userKeys.timeline("00000000-0000-4000-8000-000000000009", { type: null })))).toBe(
      false,
    );
  });
  it("a roles batch invalidates those roles, the role list, the users list (role badges) and the feed", () => {
    expect(liveInvalidations({ kind: "changed", stream: "roles", ids: [u1], truncated: false })).toEqual([
      roleKeys.detail(u1),
      roleKeys.lists(),
      userKeys.lists(),
      activityKeys.all,
    ]);
  });
  it("capped ids widen to every detail of the stream", () => {
    const keys = liveInvalidations({ kind: "changed", stream: "users", ids: [u1], truncated: true });
    expect(keys[0]).toEqual(userKeys.details());
  });
  it("a resync invalidates everything", () => {
    expect(liveInvalidations({ kind: "resync" })).toEqual([userKeys.all, roleKeys.all, activityKeys.all]);
  });
});

describe("parseLiveMessage", () => {
  it("reads what /api/live sends and refuses anything else", () => {
    expect(parseLiveMessage(JSON.stringify({ kind: "changed", stream: "users", ids: [u1, 7], truncated: false }))).toEqual({
      kind: "changed",
      stream: "users",
      ids: [u1],
      truncated: false,
    });
    expect(parseLiveMessage(JSON.stringify({ kind: "resync" }))).toEqual({ kind: "resync" });
    expect(parseLiveMessage("not json")).toBeNull();
    expect(parseLiveMessage(JSON.stringify({ kind: "changed", stream: "orders", ids: [] }))).toBeNull();
  });
});
