import { describe, expect, it } from "vitest";
import { event } from "@/test/fixtures";
import { CannotApplyEventError } from "@/lib/projection/timeline";
import { foldUser, type UserState } from "../domain/user-state";
import { projectUserEvent } from "./user-projection";

const userId = "00000000-0000-4000-8000-000000000001";
const roleId = "00000000-0000-4000-8000-0000000000aa";
const at = (offset: number) => ({ topic: "users", partition: 3, offset: String(offset) });

describe("user projection", () => {
  it("projects all six user events into state and timeline rows", () => {
    const states = new Map<string, UserState | null>();
    const events = [
      event("UserCreated", userId, 1, { email: "ada@example.com", name: "Ada" }),
      event("UserUpdated", userId, 2, { name: "Ada Lovelace" }),
      event("RoleAssignedToUser", userId, 3, { roleId, roleName: "admin" }),
      event("UserLoggedIn", userId, 4, { ip: "10.1.1.1", userAgent: "Firefox" }),
      event("RoleUnassignedFromUser", userId, 5, { roleId, roleName: "admin", reason: "unassigned" }),
      event("UserDeleted", userId, 6, {}),
    ];
    const rows = events.map((e, i) => projectUserEvent(states, e, at(i)));
    const state = states.get(userId)!;
    expect(state).toMatchObject({ email: "ada@example.com", name: "Ada Lovelace", isDeleted: true, version: 6, roles: {} });
    expect(state.lastLoginAt).toBe(events[3]!.occurredAt);
    expect(state.deletedAt).toBe(events[5]!.occurredAt);
    expect(state).toEqual(foldUser(events));

    expect(rows.map((r) => r.type)).toEqual(events.map((e) => e.type));
    expect(rows[1]!.changes).toEqual({ name: { before: "Ada", after: "Ada Lovelace" } });
    expect(rows[0]!.changes).toEqual({ email: { before: null, after: "ada@example.com" }, name: { before: null, after: "Ada" } });
    expect(rows[2]!.changes).toBeNull();
    expect(rows[4]).toMatchObject({ eventId: events[4]!.id, sequence: 5, topic: "users", partition: 3, offset: "4" });
  });

  it("projects the security events into timeline rows without touching the profile", () => {
    const states = new Map<string, UserState | null>();
    const events = [
      event("UserCreated", userId, 1, { email: "ada@example.com", name: "Ada" }),
      event("UserPasswordSet", userId, 2, { reset: false }),
      event("UserLoginFailed", userId, 3, { reason: "wrong-password", ip: "192.0.2.7", userAgent: "Firefox" }),
      event("UserLoggedIn", userId, 4, { ip: "192.0.2.7", userAgent: "Firefox" }),
      event("UserLoggedOut", userId, 5, { ip: "192.0.2.7", userAgent: "Firefox" }),
      event("UserPasswordSet", userId, 6, { reset: true }),
      event("UserSessionsEnded", userId, 7, { reason: "password-reset", count: 1 }),
    ];
    const rows = events.map((e, i) => projectUserEvent(states, e, at(i)));
    const state = states.get(userId)!;
    expect(state).toEqual(foldUser(events));
    expect(state).toMatchObject({ email: "ada@example.com", name: "Ada", version: 7, lastLoginAt: events[3]!.occurredAt });
    expect(rows.slice(1).map((r) => [r.type, r.sequence, r.changes, r.payload])).toEqual(
      events.slice(1).map((e) => [e.type, e.sequence, null, e.payload]),
    );
  });

  it("keeps the role's name as it was at assignment", () => {
    const state = foldUser([
      event("UserCreated", userId, 1, { email: "a@example.com", name: "A" }),
      event("RoleAssignedToUser", userId, 2, { roleId, roleName: "Support (old name)" }),
    ]);
    expect(state?.roles).toEqual({ [roleId]: "Support (old name)" });
  });

  it("refuses an event for a user it has never seen (the projector dead-letters it)", () => {
    expect(() => projectUserEvent(new Map(), event("UserLoggedIn", userId, 2, { ip: null, userAgent: null }), at(0))).toThrow(
      CannotApplyEventError,
    );
    const created = event("UserCreated", userId, 1, { email: "a@example.com", name: "A" });
    const states = new Map<string, UserState | null>();
    projectUserEvent(states, created, at(0));
    expect(() => projectUserEvent(states, { ...created, id: crypto.randomUUID() }, at(1))).toThrow(CannotApplyEventError);
  });
});
