import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { event } from "@/test/fixtures";
import type { RoleCommand } from "./commands";
import { decideRole } from "./decide";
import type { RoleEvent } from "./events";
import { foldRole } from "./role-state";

const roleId = "00000000-0000-4000-8000-0000000000aa";
const decide = (events: RoleEvent[], command: RoleCommand) => decideRole(command, foldRole(events));
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected a DomainError");
};
const created = () => event("RoleCreated", roleId, 1, { name: "admin", description: "Everything" });

describe("decideRole", () => {
  it("CreateRole records RoleCreated", () => {
    expect(decide([], { type: "CreateRole", roleId, name: "admin", description: "Everything", permissions: [] })).toEqual([
      { type: "RoleCreated", payload: { name: "admin", description: "Everything" } },
    ]);
  });
  it("CreateRole refuses an existing id", () => {
    expect(failure(() => decide([created()], { type: "CreateRole", roleId, name: "x", description: "", permissions: [] })).code).toBe(
      "invariant",
    );
  });
  it("UpdateRole records only what changed, nothing when nothing did", () => {
    expect(decide([created()], { type: "UpdateRole", roleId, expectedVersion: 1, name: "admins", description: "Everything" })).toEqual([
      { type: "RoleUpdated", payload: { name: "admins" } },
    ]);
    expect(decide([created()], { type: "UpdateRole", roleId, expectedVersion: 1, name: "admin" })).toEqual([]);
  });
  it("UpdateRole refuses a stale version", () => {
    const error = failure(() => decide([created()], { type: "UpdateRole", roleId, expectedVersion: 0, name: "x" }));
    expect(error.code).toBe("conflict");
  });
  it("DeleteRole records RoleDeleted, then the role is gone", () => {
    expect(decide([created()], { type: "DeleteRole", roleId, expectedVersion: 1 })).toEqual([
      { type: "RoleDeleted", payload: {} },
    ]);
    const deleted = event("RoleDeleted", roleId, 2, {});
    expect(failure(() => decide([created(), deleted], { type: "DeleteRole", roleId, expectedVersion: 2 })).code).toBe(
      "not_found",
    );
    expect(failure(() => decide([], { type: "UpdateRole", roleId, expectedVersion: 0, name: "x" })).code).toBe("not_found");
  });

  it("records permissions sorted and deduplicated, and a change of the set as the whole new set", () => {
    expect(
      decide([], { type: "CreateRole", roleId, name: "ops", description: "", permissions: ["users:write", "users:read", "users:write"] }),
    ).toEqual([{ type: "RoleCreated", payload: { name: "ops", description: "", permissions: ["users:read", "users:write"] } }]);
    const withPerms = event("RoleCreated", roleId, 1, { name: "ops", description: "", permissions: ["users:read"] });
    expect(decide([withPerms], { type: "UpdateRole", roleId, expectedVersion: 1, permissions: ["users:read"] })).toEqual([]);
    expect(decide([withPerms], { type: "UpdateRole", roleId, expectedVersion: 1, permissions: [] })).toEqual([
      { type: "RoleUpdated", payload: { permissions: [] } },
    ]);
  });
  it("a role created before permissions existed has none", () => {
    const state = foldRole([created() as RoleEvent]);
    expect(state?.permissions).toEqual([]);
    expect(state?.builtIn).toBe(false);
  });
  it("a built-in role keeps its name and permissions and cannot be deleted; its description can change", () => {
    const builtIn = event("RoleCreated", roleId, 1, { name: "admin", description: "", permissions: ["users:read"], builtIn: true });
    const rename = failure(() => decide([builtIn], { type: "UpdateRole", roleId, expectedVersion: 1, name: "root" }));
    expect(rename.code).toBe("invariant");
    expect(rename.fieldErrors?.name).toBeDefined();
    const perms = failure(() => decide([builtIn], { type: "UpdateRole", roleId, expectedVersion: 1, permissions: [] }));
    expect(perms.fieldErrors?.permissions).toBeDefined();
    expect(failure(() => decide([builtIn], { type: "DeleteRole", roleId, expectedVersion: 1 })).code).toBe("invariant");
    expect(decide([builtIn], { type: "UpdateRole", roleId, expectedVersion: 1, description: "All of it" })).toEqual([
      { type: "RoleUpdated", payload: { description: "All of it" } },
    ]);
  });
});
