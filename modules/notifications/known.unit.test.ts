/** A notifier's own view of users and roles: folding is idempotent and never goes back. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { event } from "@/test/fixtures";
import { foldKnown, NOTHING_KNOWN, type Known } from "./known";

const userId = randomUUID();
const roleId = randomUUID();
const ada: Known = { user: { id: userId, email: "ada@example.com", name: "Ada", isDeleted: false, version: 2 }, role: null };

describe("foldKnown", () => {
  it("learns users and roles from their creation", () => {
    expect(foldKnown(NOTHING_KNOWN, event("UserCreated", userId, 1, { email: "ada@example.com", name: "Ada" }))).toEqual({
      user: { id: userId, email: "ada@example.com", name: "Ada", isDeleted: false, version: 1 },
    });
    expect(foldKnown(NOTHING_KNOWN, event("RoleCreated", roleId, 1, { name: "ops", description: "" }))).toEqual({
      role: { id: roleId, name: "ops", version: 1 },
    });
  });

  it("applies updates and deletion newer than what it holds, only the fields that changed", () => {
    expect(foldKnown(ada, event("UserUpdated", userId, 3, { email: "ada@new.example" })).user).toEqual({
      ...ada.user,
      email: "ada@new.example",
      version: 3,
    });
    expect(foldKnown(ada, event("UserDeleted", userId, 3, {})).user).toMatchObject({ isDeleted: true, version: 3 });
    const ops: Known = { user: null, role: { id: roleId, name: "ops", version: 1 } };
    expect(foldKnown(ops, event("RoleUpdated", roleId, 2, { name: "admin" })).role).toEqual({ id: roleId, name: "admin", version: 2 });
    expect(foldKnown(ops, event("RoleUpdated", roleId, 2, { description: "only" }))).toEqual({});
  });

  it("changes nothing on a redelivered or unknown aggregate's event", () => {
    expect(foldKnown(ada, event("UserUpdated", userId, 2, { name: "Old" }))).toEqual({});
    expect(foldKnown(ada, event("UserCreated", userId, 1, { email: "x@example.com", name: "X" }))).toEqual({});
    expect(foldKnown(NOTHING_KNOWN, event("UserUpdated", userId, 2, { name: "Who" }))).toEqual({});
    expect(foldKnown(ada, event("RoleAssignedToUser", userId, 3, { roleId, roleName: "ops" }))).toEqual({});
  });
});
