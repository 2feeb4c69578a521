/**
 * A notifier's own minimal state, folded from the events it reads: each user's
 * email and name, each role's current name. Kept per consumer group (tables
 * notifier_users, notifier_roles) at the notifier's own position in the log,
 * so a notifier never waits for the projector nor reads a read model that is
 * ahead of or behind it.
 */
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import { streamOf, type DomainEvent } from "@/modules";
import { STREAM } from "@/modules/streams";
import { ERASED } from "@/lib/privacy/personal-data";

export interface KnownUser {
  id: string;
  email: string;
  name: string;
  isDeleted: boolean;
  /** Sequence of the last event folded in. */
  version: number;
}

export interface KnownRole {
  id: string;
  name: string;
  version: number;
}

/** What the notifier knew before an event: the user it concerns and the role it names, if any. */
export interface Known {
  user: KnownUser | null;
  role: KnownRole | null;
}

export const NOTHING_KNOWN: Known = { user: null, role: null };

/** The user an event concerns: events of the users topic are keyed by user. */
const userIdOf = (event: DomainEvent): string | null => (streamOf(event.type) === STREAM.users.name ? event.aggregateId : null);

/** The role an event names: a role event's own, or the one an assignment carries. */
function roleIdOf(event: DomainEvent): string | null {
  if (streamOf(event.type) === STREAM.roles.name) return event.aggregateId;
  return "roleId" in event.payload ? event.payload.roleId : null;
}

/**
 * Pure: the rows `event` changes. A redelivered event at or below the stored
 * version changes nothing, so folding is idempotent; an update of a user or
 * role this notifier never saw created is ignored (the projector dead-letters it).
 */
export type KnownChange = { user?: KnownUser; role?: KnownRole };

export function foldKnown(known: Known, event: DomainEvent): KnownChange {
  const newer = (row: { version: number } | null): row is { version: number } => !!row && row.version < event.sequence;
  switch (event.type) {
    case "UserCreated":
      if (known.user) return {};
      return { user: { id: event.aggregateId, ...event.payload, isDeleted: false, version: event.sequence } };
    case "UserUpdated": {
      if (!newer(known.user)) return {};
      const { email, name } = event.payload;
      return {
        user: { ...known.user!, ...(email !== undefined && { email }), ...(name !== undefined && { name }), version: event.sequence },
      };
    }
    case "UserDeleted":
      return newer(known.user) ? { user: { ...known.user!, isDeleted: true, version: event.sequence } } : {};
    case "UserErased":
      // The notifier's copy of the person's data goes with their key.
      return newer(known.user)
        ? { user: { ...known.user!, email: ERASED, name: ERASED, isDeleted: true, version: event.sequence } }
        : {};
    case "RoleCreated":
      return known.role ? {} : { role: { id: event.aggregateId, name: event.payload.name, version: event.sequence } };
    case "RoleUpdated":
      return newer(known.role) && event.payload.name !== undefined
        ? { role: { ...known.role!, name: event.payload.name, version: event.sequence } }
        : {};
    case "UserLoggedIn":
    case "UserPasswordSet":
    case "UserSessionsEnded":
    case "UserLoginFailed":
    case "UserLoggedOut":
    case "RoleAssignedToUser":
    case "RoleUnassignedFromUser":
    case "RoleDeleted":
    case "ApiTokenCreated":
    case "ApiTokenRevoked":
      return {};
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** What `consumer` knows about the user and role `event` concerns. */
export async function loadKnown(db: Db | Tx, consumer: string, event: DomainEvent): Promise<Known> {
  const userId = userIdOf(event);
  const roleId = roleIdOf(event);
  const [users, roles] = await Promise.all([
    userId
      ? db.$queryRaw<{ email: string; name: string; is_deleted: boolean; version: number }[]>`
          SELECT email, name, is_deleted, version FROM notifier_users WHERE consumer = ${consumer} AND user_id = ${userId}::uuid`
      : [],
    roleId
      ? db.$queryRaw<{ name: string; version: number }[]>`
          SELECT name, version FROM notifier_roles WHERE consumer = ${consumer} AND role_id = ${roleId}::uuid`
      : [],
  ]);
  const u = users[0];
  const r = roles[0];
  return {
    user: u && userId ? { id: userId, email: u.email, name: u.name, isDeleted: u.is_deleted, version: u.version } : null,
    role: r && roleId ? { id: roleId, name: r.name, version: r.version } : null,
  };
}

/** Writes what foldKnown returned; the version guard keeps a late or repeated write from going back. */
export async function saveKnown(tx: Tx, consumer: string, change: KnownChange): Promise<void> {
  const { user, role } = change;
  if (user) {
    await tx.$executeRaw`
      INSERT INTO notifier_users (consumer, user_id, email, name, is_deleted, version)
      VALUES (${consumer}, ${user.id}::uuid, ${user.email}, ${user.name}, ${user.isDeleted}, ${user.version})
      ON CONFLICT (consumer, user_id) DO UPDATE SET email = excluded.email, name = excluded.name,
        is_deleted = excluded.is_deleted, version = excluded.version
      WHERE notifier_users.version < excluded.version`;
  }
  if (role) {
    await tx.$executeRaw`
      INSERT INTO notifier_roles (consumer, role_id, name, version)
      VALUES (${consumer}, ${role.id}::uuid, ${role.name}, ${role.version})
      ON CONFLICT (consumer, role_id) DO UPDATE SET name = excluded.name, version = excluded.version
      WHERE notifier_roles.version < excluded.version`;
  }
}
