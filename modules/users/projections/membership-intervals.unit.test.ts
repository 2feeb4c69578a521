import { describe, expect, it } from "vitest";
import { timelineRow } from "@/lib/projection/timeline";
import type { UserEvent } from "../domain/events";
import { event } from "@/test/fixtures";
import { membershipChanges, membershipKey } from "./membership-intervals";

const ada = "00000000-0000-4000-8000-000000000001";
const bob = "00000000-0000-4000-8000-000000000002";
const admin = "00000000-0000-4000-8000-0000000000aa";
const viewer = "00000000-0000-4000-8000-0000000000bb";
const rows = (events: UserEvent[]) => events.map((e, i) => timelineRow(e, { topic: "users", partition: 0, offset: String(i) }, null));

describe("membershipChanges", () => {
  it("opens on assignment and closes within the batch on unassignment, then opens a new interval on re-assignment", () => {
    const events = [
      event("RoleAssignedToUser", ada, 2, { roleId: admin, roleName: "admin" }),
      event("RoleUnassignedFromUser", ada, 3, { roleId: admin, roleName: "admin", reason: "unassigned" }),
      event("RoleAssignedToUser", ada, 4, { roleId: admin, roleName: "Administrators" }),
    ];
    const { opened, closed } = membershipChanges(new Set(), rows(events));
    expect(closed).toEqual([]);
    expect(opened).toHaveLength(2);
    expect(opened[0]).toMatchObject({
      grantEventId: events[0]!.id,
      fromAt: events[0]!.occurredAt,
      grantedBy: { userId: null, service: "unit-test" },
      end: { untilAt: events[1]!.occurredAt, revokeEventId: events[1]!.id, endReason: "unassigned" },
    });
    expect(opened[1]).toMatchObject({ grantEventId: events[2]!.id, roleName: "Administrators", end: null });
  });

  it("closes intervals held before the batch, and a second assignment of a held role opens nothing", () => {
    const events = [
      event("RoleAssignedToUser", ada, 5, { roleId: admin, roleName: "admin" }),
      event("RoleUnassignedFromUser", ada, 6, { roleId: admin, roleName: "admin", reason: "role-deleted" }),
    ];
    const { opened, closed } = membershipChanges(new Set([membershipKey(ada, admin)]), rows(events));
    expect(opened).toEqual([]);
    expect(closed).toEqual([
      expect.objectContaining({ userId: ada, roleId: admin, untilAt: events[1]!.occurredAt, endReason: "role-deleted" }),
    ]);
  });

  it("ends every role a deleted user held, before and within the batch, and no one else's", () => {
    const events = [
      event("RoleAssignedToUser", ada, 3, { roleId: viewer, roleName: "viewer" }),
      event("UserDeleted", ada, 4, {}),
    ];
    const { opened, closed } = membershipChanges(new Set([membershipKey(ada, admin), membershipKey(bob, admin)]), rows(events));
    expect(opened).toEqual([expect.objectContaining({ roleId: viewer, end: expect.objectContaining({ endReason: "user-deleted" }) })]);
    expect(closed).toEqual([expect.objectContaining({ userId: ada, roleId: admin, endReason: "user-deleted" })]);
  });

  it("ignores an unassignment of a role not held and events that are not about memberships", () => {
    const events = [
      event("UserUpdated", ada, 2, { name: "Ada L" }),
      event("RoleUnassignedFromUser", ada, 3, { roleId: admin, roleName: "admin", reason: "unassigned" }),
    ];
    expect(membershipChanges(new Set(), rows(events))).toEqual({ opened: [], closed: [] });
  });
});
