/**
 * Who held which role when, as intervals [from, until): the pure part of the
 * access-review projection. Given the (user, role) pairs held before a batch
 * and the batch's timeline rows in log order, it says which intervals the batch
 * opens (possibly closed again within the batch) and which intervals held
 * before it closes. ./membership-read-model.ts does the I/O in the batch's
 * transaction.
 *
 * Held follows `evolveUser` exactly: RoleAssignedToUser makes the pair held
 * (a second assignment of a held role changes nothing here), RoleUnassignedFromUser
 * ends it (reason "unassigned", or "role-deleted" when the role was deleted:
 * the roles module publishes those before RoleDeleted), and UserDeleted ends
 * every role the user still held ("user-deleted").
 */
import type { Actor } from "@/lib/events/envelope";
import type { TimelineRow } from "@/lib/projection/timeline";

export type MembershipEndReason = "unassigned" | "role-deleted" | "user-deleted";

/** An actor as the intervals keep it: an id, never an email (pages join `users`). */
export interface ActorRef {
  userId: string | null;
  service: string | null;
}

export const actorRef = (actor: Actor): ActorRef =>
  actor.kind === "user" ? { userId: actor.userId, service: null } : { userId: null, service: actor.name };

export interface MembershipEnd {
  untilAt: string;
  revokeEventId: string;
  revokeSequence: number;
  removedBy: ActorRef;
  endReason: MembershipEndReason;
}

export interface OpenedInterval {
  grantEventId: string;
  userId: string;
  roleId: string;
  roleName: string;
  fromAt: string;
  grantSequence: number;
  grantedBy: ActorRef;
  end: MembershipEnd | null;
}

export interface ClosedInterval extends MembershipEnd {
  userId: string;
  roleId: string;
}

export interface MembershipChanges {
  opened: OpenedInterval[];
  /** Intervals open before the batch that it ends. */
  closed: ClosedInterval[];
}

const pairKey = (userId: string, roleId: string) => `${userId}/${roleId}`;

export const MEMBERSHIP_EVENT_TYPES: ReadonlySet<string> = new Set([
  "RoleAssignedToUser",
  "RoleUnassignedFromUser",
  "UserDeleted",
]);

/**
 * The batch's effect on the intervals. `heldBefore` holds "userId/roleId" of
 * every pair open before the batch for the users it touches (see `pairKey`).
 */
export function membershipChanges(heldBefore: ReadonlySet<string>, rows: readonly TimelineRow[]): MembershipChanges {
  const opened: OpenedInterval[] = [];
  const closed: ClosedInterval[] = [];
  /** Pairs held now → the interval opened in this batch, or "before" for one open before it. */
  const held = new Map<string, OpenedInterval | "before">([...heldBefore].map((k) => [k, "before"]));
  const end = (key: string, userId: string, roleId: string, ending: MembershipEnd) => {
    const interval = held.get(key);
    if (interval === undefined) return;
    held.delete(key);
    if (interval === "before") closed.push({ userId, roleId, ...ending });
    else interval.end = ending;
  };
  const ending = (row: TimelineRow, endReason: MembershipEndReason): MembershipEnd => ({
    untilAt: row.occurredAt,
    revokeEventId: row.eventId,
    revokeSequence: row.sequence,
    removedBy: actorRef(row.actor),
    endReason,
  });

  for (const row of rows) {
    if (row.type === "RoleAssignedToUser") {
      const { roleId, roleName } = row.payload as { roleId: string; roleName: string };
      const key = pairKey(row.aggregateId, roleId);
      if (held.has(key)) continue;
      const interval: OpenedInterval = {
        grantEventId: row.eventId,
        userId: row.aggregateId,
        roleId,
        roleName,
        fromAt: row.occurredAt,
        grantSequence: row.sequence,
        grantedBy: actorRef(row.actor),
        end: null,
      };
      held.set(key, interval);
      opened.push(interval);
    } else if (row.type === "RoleUnassignedFromUser") {
      const { roleId, reason } = row.payload as { roleId: string; reason: "unassigned" | "role-deleted" };
      end(pairKey(row.aggregateId, roleId), row.aggregateId, roleId, ending(row, reason));
    } else if (row.type === "UserDeleted") {
      const prefix = `${row.aggregateId}/`;
      for (const key of [...held.keys()]) {
        if (key.startsWith(prefix)) end(key, row.aggregateId, key.slice(prefix.length), ending(row, "user-deleted"));
      }
    }
  }
  return { opened, closed };
}

export { pairKey as membershipKey };
