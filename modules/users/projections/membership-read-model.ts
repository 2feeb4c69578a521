/**
 * The access-review intervals' I/O for the projector, in the batch's own
 * transaction (called by saveUsers after the users rows): read which of the
 * touched users' role pairs were held before the batch, fold the batch
 * (./membership-intervals.ts), close what ended and insert what began.
 */
import type { CopyValue } from "@/lib/module";
import type { BatchTx } from "@/lib/sql-tx";
import type { TimelineRow } from "@/lib/projection/timeline";
import { MEMBERSHIP_EVENT_TYPES, membershipChanges, membershipKey, type OpenedInterval } from "./membership-intervals";

export const MEMBERSHIP_TABLE = "role_membership_intervals";

/** The intervals' columns and values as the rebuild's bulk load COPYs them (./user-bulk.ts). */
export const MEMBERSHIP_COLUMNS = ["grant_event_id", "user_id", "role_id", "role_name", "from_at", "grant_sequence", "granted_by_user_id",
  "granted_by_service", "until_at", "revoke_event_id", "revoke_sequence", "removed_by_user_id", "removed_by_service", "end_reason"] as const;

export const intervalValues = (o: OpenedInterval): CopyValue[] => [o.grantEventId, o.userId, o.roleId, o.roleName, o.fromAt, o.grantSequence,
  o.grantedBy.userId, o.grantedBy.service, o.end?.untilAt ?? null, o.end?.revokeEventId ?? null, o.end?.revokeSequence ?? null,
  o.end?.removedBy.userId ?? null, o.end?.removedBy.service ?? null, o.end?.endReason ?? null];

/** Its writes ride with the batch's next statement or its COMMIT (lib/sql-tx.ts, defer). */
export async function saveMembershipIntervals(tx: BatchTx, timeline: readonly TimelineRow[]): Promise<void> {
  const rows = timeline.filter((t) => MEMBERSHIP_EVENT_TYPES.has(t.type));
  if (rows.length === 0) return;
  const userIds = [...new Set(rows.map((r) => r.aggregateId))];
  const open = await tx.$queryRaw<{ user_id: string; role_id: string }[]>`
    SELECT user_id::text, role_id::text FROM role_membership_intervals
    WHERE user_id = ANY(${userIds}::uuid[]) AND until_at IS NULL`;
  const { opened, closed } = membershipChanges(new Set(open.map((o) => membershipKey(o.user_id, o.role_id))), rows);
  if (closed.length) {
    tx.defer`
      UPDATE role_membership_intervals i SET until_at = c."untilAt", revoke_event_id = c."revokeEventId",
        revoke_sequence = c."revokeSequence", removed_by_user_id = c."removedByUserId",
        removed_by_service = c."removedByService", end_reason = c."endReason"
      FROM jsonb_to_recordset(${JSON.stringify(
        closed.map((c) => ({ ...c, removedByUserId: c.removedBy.userId, removedByService: c.removedBy.service })),
      )}::jsonb) AS c("userId" uuid, "roleId" uuid, "untilAt" timestamptz, "revokeEventId" uuid, "revokeSequence" int,
        "removedByUserId" uuid, "removedByService" text, "endReason" text)
      WHERE i.user_id = c."userId" AND i.role_id = c."roleId" AND i.until_at IS NULL`;
  }
  // Not by COPY: an erasure re-saves the person's whole history (lib/privacy/scrub.ts deletes
  // and rewrites their timeline rows through this projection's save), and their past grants'
  // intervals are still there. The conflict clause keeps them (they hold ids, no personal data).
  if (opened.length) {
    const json = JSON.stringify(
      opened.map((o) => ({
        grantEventId: o.grantEventId,
        userId: o.userId,
        roleId: o.roleId,
        roleName: o.roleName,
        fromAt: o.fromAt,
        grantSequence: o.grantSequence,
        grantedByUserId: o.grantedBy.userId,
        grantedByService: o.grantedBy.service,
        untilAt: o.end?.untilAt ?? null,
        revokeEventId: o.end?.revokeEventId ?? null,
        revokeSequence: o.end?.revokeSequence ?? null,
        removedByUserId: o.end?.removedBy.userId ?? null,
        removedByService: o.end?.removedBy.service ?? null,
        endReason: o.end?.endReason ?? null,
      })),
    );
    tx.defer`
      INSERT INTO role_membership_intervals (grant_event_id, user_id, role_id, role_name, from_at, grant_sequence,
        granted_by_user_id, granted_by_service, until_at, revoke_event_id, revoke_sequence, removed_by_user_id,
        removed_by_service, end_reason)
      SELECT o."grantEventId", o."userId", o."roleId", o."roleName", o."fromAt", o."grantSequence", o."grantedByUserId",
        o."grantedByService", o."untilAt", o."revokeEventId", o."revokeSequence", o."removedByUserId",
        o."removedByService", o."endReason"
      FROM jsonb_to_recordset(${json}::jsonb) AS o("grantEventId" uuid, "userId" uuid, "roleId" uuid, "roleName" text,
        "fromAt" timestamptz, "grantSequence" int, "grantedByUserId" uuid, "grantedByService" text, "untilAt" timestamptz,
        "revokeEventId" uuid, "revokeSequence" int, "removedByUserId" uuid, "removedByService" text, "endReason" text)
      ON CONFLICT (grant_event_id) DO NOTHING`;
  }
}
