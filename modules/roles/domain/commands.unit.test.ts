import { describe, expect, it } from "vitest";
import { BUILT_IN_ROLES } from "@/lib/auth/permissions";
import { createRoleInput, updateRoleInput } from "./commands";

describe("role permission input", () => {
  it("takes one checkbox, several, none (the form's empty marker) or an API array", () => {
    const parse = (permissions: unknown) => createRoleInput.parse({ name: "ops", permissions }).permissions;
    expect(parse("users:read")).toEqual(["users:read"]);
    expect(parse(["", "users:read", "roles:write"])).toEqual(["users:read", "roles:write"]);
    expect(parse("")).toEqual([]);
    expect(parse(undefined)).toEqual([]);
    expect(updateRoleInput.parse({ roleId: BUILT_IN_ROLES.viewer.id, expectedVersion: 1 }).permissions).toBeUndefined();
  });
  it("refuses an unknown permission with its name", () => {
    const result = createRoleInput.safeParse({ name: "ops", permissions: ["users:read", "root:everything"] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('Unknown permission "root:everything".');
  });
});
