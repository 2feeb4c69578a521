/**
 * A user's state is the fold of the user's events. The command side keeps it
 * (streams.state) to decide, the projector writes it to the read model, and
 * time travel folds a prefix of the timeline. One `evolve` serves all three.
 */
import { assertNever } from "@/lib/errors";
import { ERASED } from "@/lib/privacy/personal-data";
import { CannotApplyEventError, type FieldChanges } from "@/lib/projection/timeline";
import type { UserEvent } from "./events";
import { PROFILE_FIELDS } from "./profile-fields";

export interface UserState {
  id: string;
  email: string;
  name: string;
  isDeleted: boolean;
  /** The sequence of the last event applied. */
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  lastLoginAt: string | null;
  /** When the person's personal data was erased (UserErased); their email and name then read ERASED. */
  erasedAt: string | null;
  /** roleId → role name as carried by the assignment event. */
  roles: Record<string, string>;
}

/** Applies one event. Pure. Throws CannotApplyEventError for an event that cannot follow `state`. */
export function evolveUser(state: UserState | null, event: UserEvent): UserState {
  if (event.type === "UserCreated") {
    if (state) throw new CannotApplyEventError(`UserCreated for existing user ${event.aggregateId}`);
    return {
      id: event.aggregateId,
      email: event.payload.email,
      name: event.payload.name,
      isDeleted: false,
      version: event.sequence,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      deletedAt: null,
      lastLoginAt: null,
      erasedAt: null,
      roles: {},
    };
  }
  if (!state) throw new CannotApplyEventError(`${event.type} for unknown user ${event.aggregateId}`);
  const next = { ...state, version: event.sequence };
  switch (event.type) {
    case "UserUpdated":
      return { ...next, ...definedOnly(event.payload), updatedAt: event.occurredAt };
    case "UserDeleted":
      return { ...next, isDeleted: true, deletedAt: event.occurredAt, updatedAt: event.occurredAt };
    case "UserLoggedIn":
      return { ...next, lastLoginAt: event.occurredAt };
    // Security events: in the user's history, nothing in the profile changes.
    case "UserPasswordSet":
    case "UserSessionsEnded":
    case "UserLoginFailed":
    case "UserLoggedOut":
      return next;
    case "RoleAssignedToUser":
      return { ...next, roles: { ...state.roles, [event.payload.roleId]: event.payload.roleName } };
    case "RoleUnassignedFromUser": {
      const { [event.payload.roleId]: _removed, ...roles } = state.roles;
      return { ...next, roles };
    }
    case "UserErased":
      return { ...next, email: ERASED, name: ERASED, erasedAt: event.occurredAt, updatedAt: event.occurredAt };
    default:
      return assertNever(event, "user event");
  }
}

export const foldUser = (events: readonly UserEvent[], initial: UserState | null = null) =>
  events.reduce<UserState | null>((state, event) => evolveUser(state, event), initial);

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The profile fields an event changed, as before → after (for the timeline). */
export function userChanges(before: UserState | null, after: UserState): FieldChanges {
  const changes: FieldChanges = {};
  for (const { field } of PROFILE_FIELDS) {
    if (before?.[field] !== after[field]) changes[field] = { before: before?.[field] ?? null, after: after[field] };
  }
  return changes;
}
