import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { safeNextPath } from "./next-path";
import { ALL_PERMISSIONS, BUILT_IN_ROLES, assertCanGrant, missingPermissions } from "./permissions";

describe("granting", () => {
  it("nobody grants what they do not hold; the system (no set) grants freely", () => {
    const writer = new Set(["users:read", "users:write"]);
    expect(missingPermissions(writer, ["users:read"])).toEqual([]);
    expect(missingPermissions(writer, [...BUILT_IN_ROLES.admin.permissions])).toEqual(["users:erase", "roles:write", "tokens:manage", "ops:manage"]);
    expect(() => assertCanGrant(writer, BUILT_IN_ROLES.admin.permissions, 'assign the role "admin"')).toThrow(DomainError);
    expect(() => assertCanGrant(new Set(ALL_PERMISSIONS), BUILT_IN_ROLES.admin.permissions, "x")).not.toThrow();
    expect(() => assertCanGrant(undefined, BUILT_IN_ROLES.admin.permissions, "x")).not.toThrow();
  });
  it("the refusal names the missing permissions", () => {
    try {
      assertCanGrant(new Set(["users:write"]), ["users:write", "tokens:manage"], 'assign the role "ops"');
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).code).toBe("forbidden");
      expect((error as DomainError).message).toContain('"tokens:manage"');
    }
  });
});

describe("safeNextPath", () => {
  it("keeps paths on this site and refuses everything else", () => {
    expect(safeNextPath("/users/42?tab=roles")).toBe("/users/42?tab=roles");
    for (const bad of [null, "", "https://evil.example/", "//evil.example", "/\\evil.example", "users", "/sign-in?next=/x"]) {
      expect(safeNextPath(bad)).toBe("/users");
    }
  });
});
