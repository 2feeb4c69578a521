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
    expect(decide([], { type: "CreateRole", roleId, name: "admin", description: "Everything" })).toEqual([
      { type: "RoleCreated", payload: { name: "admin", description: "Everything" } },
    ]);
  });
  it("CreateRole refuses an existing id", () => {
    expect(failure(() => decide([created()], { type: "CreateRole", roleId, name: "x", description: "" })).code).toBe(
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
});
