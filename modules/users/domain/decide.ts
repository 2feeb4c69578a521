/**
 * decide(command, state) → the events that record it, or a DomainError. Pure:
 * ids, clock and lookups come in with the command.
 */
import { assertNever, conflict, invariant, notFound } from "@/lib/errors";
import type { NewEvent } from "@/lib/events/envelope";
import type { UserCommand } from "./commands";
import type { UserEvent } from "./events";
import type { UserState } from "./user-state";

export type NewUserEvent = NewEvent<UserEvent>;

export function decideUser(command: UserCommand, state: UserState | null): NewUserEvent[] {
  if (command.type === "CreateUser") {
    if (state) throw invariant(`User ${command.userId} already exists.`);
    return [{ type: "UserCreated", payload: { email: command.email, name: command.name } }];
  }

  if (command.type === "EraseUser") {
    if (!state) throw notFound(`User ${command.userId}`);
    if (state.erasedAt) throw invariant(`The personal data of user ${command.userId} was already erased.`);
    // A live user is deleted first: erasure ends the account too.
    return [
      ...(state.isDeleted ? [] : [{ type: "UserDeleted" as const, payload: {} }]),
      { type: "UserErased", payload: { reason: command.reason } },
    ];
  }

  const user = liveUser(state, command.userId);
  if ("expectedVersion" in command && command.expectedVersion !== undefined && command.expectedVersion !== user.version) {
    throw conflict(`User ${user.email}`, command.expectedVersion, user.version);
  }

  switch (command.type) {
    case "UpdateUser": {
      const payload: { email?: string; name?: string } = {};
      if (command.email !== undefined && command.email !== user.email) payload.email = command.email;
      if (command.name !== undefined && command.name !== user.name) payload.name = command.name;
      // Updating nothing records nothing.
      return Object.keys(payload).length ? [{ type: "UserUpdated", payload }] : [];
    }
    case "DeleteUser":
      return [{ type: "UserDeleted", payload: {} }];
    case "RecordLogin":
      return [{ type: "UserLoggedIn", payload: { ip: command.ip, userAgent: command.userAgent } }];
    case "RecordPasswordSet":
      return [
        { type: "UserPasswordSet", payload: { reset: command.reset } },
        ...(command.sessionsEnded > 0
          ? [{ type: "UserSessionsEnded", payload: { reason: "password-reset", count: command.sessionsEnded } } as const]
          : []),
      ];
    case "RecordSessionsEnded":
      // Ending no session records nothing.
      return command.count > 0 ? [{ type: "UserSessionsEnded", payload: { reason: "ended-by-admin", count: command.count } }] : [];
    case "RecordLoginFailure":
      return [{ type: "UserLoginFailed", payload: { reason: command.reason, ip: command.ip, userAgent: command.userAgent } }];
    case "RecordLogout":
      return [{ type: "UserLoggedOut", payload: { ip: command.ip, userAgent: command.userAgent } }];
    case "AssignRole": {
      if (!command.role || command.role.isDeleted) {
        throw invariant("That role does not exist (it may have been deleted).", { roleId: ["Role not found."] });
      }
      // Assigning a role the user already has is a no-op, not a second event.
      if (command.role.id in user.roles) return [];
      return [{ type: "RoleAssignedToUser", payload: { roleId: command.role.id, roleName: command.role.name } }];
    }
    case "UnassignRole": {
      const roleName = user.roles[command.roleId];
      if (roleName === undefined) return [];
      return [
        { type: "RoleUnassignedFromUser", payload: { roleId: command.roleId, roleName, reason: command.reason } },
      ];
    }
    default:
      return assertNever(command, "user command");
  }
}

function liveUser(state: UserState | null, userId: string): UserState {
  if (!state || state.isDeleted) throw notFound(`User ${userId}`);
  return state;
}
