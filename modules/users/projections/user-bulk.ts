/**
 * The users projection's rows for the rebuild's bulk path (lib/module.ts
 * `bulk`): the final `users`, `user_roles` and `role_membership_intervals`
 * rows after the whole log is folded in memory, equal to what saveUsers
 * writes batch by batch (./user-read-model.ts, ./membership-read-model.ts).
 */
import type { SqlTx } from "@/lib/sql-tx";
import type { BulkCollector, BulkTable } from "@/lib/module";
import type { TimelineRow } from "@/lib/projection/timeline";
import type { UserState } from "../domain/user-state";
import { MEMBERSHIP_EVENT_TYPES, membershipChanges, membershipKey, type OpenedInterval } from "./membership-intervals";
import { intervalValues, MEMBERSHIP_COLUMNS, MEMBERSHIP_TABLE } from "./membership-read-model";
import { USER_ROLE_COLUMNS } from "./user-read-model";

/** What JavaScript's toLowerCase and PostgreSQL's lower() agree on whatever the locale. */
const ASCII = /^[\x20-\x7e]*$/;

export function userBulkCollector(): BulkCollector<UserState> {
  /** "user/role" → when it was last assigned: user_roles.assigned_at (saveUsers' `assignedAt`). */
  const assignedAt = new Map<string, string>();
  /** Every interval opened, in log order; the open ones also by user, then role. */
  const intervals: OpenedInterval[] = [];
  const open = new Map<string, Map<string, OpenedInterval>>();
  /** Users whose email or name is not plain ASCII: lowered by PostgreSQL itself after the COPY. */
  const lowerInDb: string[] = [];

  return {
    add(_states, rows) {
      const memberships: TimelineRow[] = [];
      for (const row of rows) {
        if (row.type === "RoleAssignedToUser") {
          assignedAt.set(membershipKey(row.aggregateId, (row.payload as { roleId: string }).roleId), row.occurredAt);
        }
        if (MEMBERSHIP_EVENT_TYPES.has(row.type)) memberships.push(row);
      }
      if (memberships.length === 0) return;
      // The same fold as saveMembershipIntervals, with the open intervals held here instead of read back.
      const heldBefore = new Set<string>();
      for (const userId of new Set(memberships.map((r) => r.aggregateId))) {
        for (const roleId of open.get(userId)?.keys() ?? []) heldBefore.add(membershipKey(userId, roleId));
      }
      const { opened, closed } = membershipChanges(heldBefore, memberships);
      for (const c of closed) {
        const interval = open.get(c.userId)?.get(c.roleId);
        if (!interval) continue;
        interval.end = { untilAt: c.untilAt, revokeEventId: c.revokeEventId, revokeSequence: c.revokeSequence, removedBy: c.removedBy, endReason: c.endReason };
        open.get(c.userId)!.delete(c.roleId);
      }
      for (const o of opened) {
        intervals.push(o);
        if (o.end === null) {
          if (!open.has(o.userId)) open.set(o.userId, new Map());
          open.get(o.userId)!.set(o.roleId, o);
        }
      }
    },

    tables(states): BulkTable[] {
      const users = [...states.values()].filter((s): s is UserState => !!s);
      return [
        {
          table: "users",
          columns: ["id", "email", "name", "is_deleted", "version", "created_at", "updated_at", "deleted_at", "last_login_at", "erased_at", "email_lower", "name_lower"],
          rows: (function* () {
            for (const s of users) {
              const ascii = ASCII.test(s.email) && ASCII.test(s.name);
              if (!ascii) lowerInDb.push(s.id);
              yield [s.id, s.email, s.name, s.isDeleted, s.version, s.createdAt, s.updatedAt, s.deletedAt, s.lastLoginAt, s.erasedAt,
                ascii ? s.email.toLowerCase() : s.email, ascii ? s.name.toLowerCase() : s.name];
            }
          })(),
        },
        {
          table: "user_roles",
          columns: USER_ROLE_COLUMNS,
          rows: (function* () {
            for (const s of users) {
              for (const [roleId, roleName] of Object.entries(s.roles)) {
                yield [s.id, roleId, roleName, assignedAt.get(membershipKey(s.id, roleId)) ?? null];
              }
            }
          })(),
        },
        {
          table: MEMBERSHIP_TABLE,
          columns: MEMBERSHIP_COLUMNS,
          rows: intervals.map(intervalValues),
        },
      ];
    },

    async finish(tx: SqlTx) {
      if (lowerInDb.length === 0) return;
      await tx.$executeRaw`UPDATE users SET email_lower = lower(email), name_lower = lower(name) WHERE id = ANY(${lowerInDb}::uuid[])`;
    },
  };
}
