import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { event } from "@/test/fixtures";
import type { UserCommand } from "./commands";
import { decideUser } from "./decide";
import type { UserEvent } from "./events";
import { foldUser } from "./user-state";

const userId = "00000000-0000-4000-8000-000000000001";
const roleId = "00000000-0000-4000-8000-0000000000aa";

/** given events → when command → then new events (or an error). */
const given = (...events: UserEvent[]) => ({
  when: (command: UserCommand) => {
    const run = () => decideUser(command, foldUser(events));
    return {
      then: (expected: unknown[]) => expect(run()).toEqual(expected),
      thenFails: (code: DomainError["code"], message?: RegExp) => {
        let error: unknown;
        try {
          run();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe(code);
        if (message) expect((error as DomainError).message).toMatch(message);
      },
    };
  },
});

const created = () => event("UserCreated", userId, 1, { email: "ada@example.com", name: "Ada" });
const deleted = (seq: number) => event("UserDeleted", userId, seq, {});
const assigned = (seq: number) => event("RoleAssignedToUser", userId, seq, { roleId, roleName: "admin" });
const liveRole = { id: roleId, name: "admin", isDeleted: false };

describe("decideUser", () => {
  describe("CreateUser", () => {
    it("records UserCreated", () =>
      given()
        .when({ type: "CreateUser", userId, email: "ada@example.com", name: "Ada" })
        .then([{ type: "UserCreated", payload: { email: "ada@example.com", name: "Ada" } }]));
    it("refuses an id that exists", () =>
      given(created()).when({ type: "CreateUser", userId, email: "x@example.com", name: "X" }).thenFails("invariant"));
  });

  describe("UpdateUser", () => {
    it("records only the fields that changed", () =>
      given(created())
        .when({ type: "UpdateUser", userId, expectedVersion: 1, email: "ada@example.com", name: "Ada Lovelace" })
        .then([{ type: "UserUpdated", payload: { name: "Ada Lovelace" } }]));
    it("records nothing when nothing changed", () =>
      given(created()).when({ type: "UpdateUser", userId, expectedVersion: 1, name: "Ada" }).then([]));
    it("refuses a stale expectedVersion with a conflict", () =>
      given(created(), assigned(2))
        .when({ type: "UpdateUser", userId, expectedVersion: 1, name: "B" })
        .thenFails("conflict", /changed by someone else/));
    it("refuses an unknown user", () =>
      given().when({ type: "UpdateUser", userId, expectedVersion: 0, name: "B" }).thenFails("not_found"));
    it("refuses a deleted user", () =>
      given(created(), deleted(2)).when({ type: "UpdateUser", userId, expectedVersion: 2, name: "B" }).thenFails("not_found"));
  });

  describe("DeleteUser", () => {
    it("records UserDeleted", () =>
      given(created()).when({ type: "DeleteUser", userId, expectedVersion: 1 }).then([{ type: "UserDeleted", payload: {} }]));
    it("refuses to delete twice", () =>
      given(created(), deleted(2)).when({ type: "DeleteUser", userId, expectedVersion: 2 }).thenFails("not_found"));
  });

  describe("RecordLogin", () => {
    it("records UserLoggedIn with ip and user agent", () =>
      given(created())
        .when({ type: "RecordLogin", userId, ip: "10.0.0.1", userAgent: "curl/8" })
        .then([{ type: "UserLoggedIn", payload: { ip: "10.0.0.1", userAgent: "curl/8" } }]));
    it("refuses a login of a deleted user", () =>
      given(created(), deleted(2)).when({ type: "RecordLogin", userId, ip: null, userAgent: null }).thenFails("not_found"));
  });

  describe("AssignRole", () => {
    it("records RoleAssignedToUser with the role's name at the time", () =>
      given(created())
        .when({ type: "AssignRole", userId, roleId, role: liveRole })
        .then([{ type: "RoleAssignedToUser", payload: { roleId, roleName: "admin" } }]));
    it("is a no-op when the user already has the role", () =>
      given(created(), assigned(2)).when({ type: "AssignRole", userId, roleId, role: liveRole }).then([]));
    it("refuses a role that does not exist", () =>
      given(created()).when({ type: "AssignRole", userId, roleId, role: null }).thenFails("invariant", /does not exist/));
    it("refuses a deleted role", () =>
      given(created())
        .when({ type: "AssignRole", userId, roleId, role: { ...liveRole, isDeleted: true } })
        .thenFails("invariant"));
    it("checks expectedVersion when given", () =>
      given(created()).when({ type: "AssignRole", userId, roleId, role: liveRole, expectedVersion: 0 }).thenFails("conflict"));
  });

  describe("UnassignRole", () => {
    it("records RoleUnassignedFromUser with the reason", () =>
      given(created(), assigned(2))
        .when({ type: "UnassignRole", userId, roleId, reason: "role-deleted" })
        .then([{ type: "RoleUnassignedFromUser", payload: { roleId, roleName: "admin", reason: "role-deleted" } }]));
    it("is a no-op when the user does not have the role", () =>
      given(created()).when({ type: "UnassignRole", userId, roleId, reason: "unassigned" }).then([]));
  });

  describe("security records (no expectedVersion: never refused for a concurrent edit)", () => {
    const edited = () => event("UserUpdated", userId, 2, { name: "Ada L." });
    it("records a first password as set, with no session to end", () =>
      given(created(), edited())
        .when({ type: "RecordPasswordSet", userId, reset: false, sessionsEnded: 0 })
        .then([{ type: "UserPasswordSet", payload: { reset: false } }]));
    it("records a reset and the sessions it ended", () =>
      given(created())
        .when({ type: "RecordPasswordSet", userId, reset: true, sessionsEnded: 2 })
        .then([
          { type: "UserPasswordSet", payload: { reset: true } },
          { type: "UserSessionsEnded", payload: { reason: "password-reset", count: 2 } },
        ]));
    it("records sessions ended by an administrator, and nothing when none was open", () => {
      given(created())
        .when({ type: "RecordSessionsEnded", userId, count: 1 })
        .then([{ type: "UserSessionsEnded", payload: { reason: "ended-by-admin", count: 1 } }]);
      given(created()).when({ type: "RecordSessionsEnded", userId, count: 0 }).then([]);
    });
    it("records a failed sign-in and a sign-out with where they came from", () => {
      given(created(), edited())
        .when({ type: "RecordLoginFailure", userId, reason: "no-access", ip: "192.0.2.7", userAgent: "Firefox" })
        .then([{ type: "UserLoginFailed", payload: { reason: "no-access", ip: "192.0.2.7", userAgent: "Firefox" } }]);
      given(created())
        .when({ type: "RecordLogout", userId, ip: null, userAgent: null })
        .then([{ type: "UserLoggedOut", payload: { ip: null, userAgent: null } }]);
    });
    it("refuses them for a deleted user", () =>
      given(created(), deleted(2))
        .when({ type: "RecordLoginFailure", userId, reason: "wrong-password", ip: null, userAgent: null })
        .thenFails("not_found"));
  });
});
