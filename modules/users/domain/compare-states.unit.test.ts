import { describe, expect, it } from "vitest";
import { event } from "@/test/fixtures";
import { compareStates } from "./compare-states";
import { foldUser } from "./user-state";

const id = "00000000-0000-4000-8000-000000000001";
const admin = "00000000-0000-4000-8000-0000000000aa";
const viewer = "00000000-0000-4000-8000-0000000000bb";

describe("compareStates", () => {
  const events = [
    event("UserCreated", id, 1, { email: "ada@example.com", name: "Ada" }),
    event("RoleAssignedToUser", id, 2, { roleId: admin, roleName: "admin" }),
    event("UserUpdated", id, 3, { email: "ada@lovelace.org" }),
    event("RoleUnassignedFromUser", id, 4, { roleId: admin, roleName: "admin", reason: "unassigned" }),
    event("RoleAssignedToUser", id, 5, { roleId: viewer, roleName: "viewer" }),
    event("UserDeleted", id, 6, {}),
  ];
  const at = (n: number) => foldUser(events.slice(0, n));

  it("names each changed field, the roles gained and lost, and the status", () => {
    expect(compareStates(at(2), at(6))).toEqual([
      { label: "Email", before: "ada@example.com", after: "ada@lovelace.org" },
      { label: "Status", before: "Live", after: "Deleted" },
      { label: "Role gained", before: null, after: "viewer" },
      { label: "Role lost", before: "admin", after: null },
    ]);
  });

  it("is empty between equal states and reverses when the points are swapped", () => {
    expect(compareStates(at(3), at(3))).toEqual([]);
    expect(compareStates(at(3), at(2))).toEqual([{ label: "Email", before: "ada@lovelace.org", after: "ada@example.com" }]);
  });

  it("compares with no user at all", () => {
    expect(compareStates(null, at(1))).toEqual([
      { label: "Email", before: null, after: "ada@example.com" },
      { label: "Name", before: null, after: "Ada" },
      { label: "Status", before: null, after: "Live" },
    ]);
  });
});
