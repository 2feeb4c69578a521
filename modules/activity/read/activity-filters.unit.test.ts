import { describe, expect, it } from "vitest";
import { activityHref, parseActivityFilters, parseLocalDateTime } from "./activity-filters";

describe("activity filters", () => {
  it("keeps valid values from the URL and drops the rest", () => {
    expect(
      parseActivityFilters({ type: "RoleUpdated", actor: "  auth-service ", from: "2026-11-27T09:30", to: "nonsense", cursor: "" }),
    ).toEqual({ type: "RoleUpdated", actor: "auth-service", by: null, from: "2026-11-27T09:30", to: null, cursor: null });
    expect(parseActivityFilters({ by: "service:auth-service" }).by).toBe("service:auth-service");
    expect(parseActivityFilters({ by: "user:ada@example.com" }).by).toBeNull();
    expect(parseActivityFilters({ type: "DropTables", actor: ["a", "b"] })).toMatchObject({ type: null, actor: "a" });
  });
  it("reads datetime-local values as UTC", () => {
    expect(parseLocalDateTime("2026-11-27T09:30")?.toISOString()).toBe("2026-11-27T09:30:00.000Z");
    expect(parseLocalDateTime("2026-11-27")).toBeNull();
  });
  it("writes only the filters that are set", () => {
    expect(activityHref({ type: null, actor: null, by: null, from: null, to: null })).toBe("/activity");
    expect(activityHref({ type: "UserCreated", actor: "a@b.c", by: "service:importer", from: null, to: null }, "abc")).toBe(
      "/activity?type=UserCreated&actor=a%40b.c&by=service%3Aimporter&cursor=abc",
    );
  });
});
