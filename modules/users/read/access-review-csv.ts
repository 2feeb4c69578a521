/** The members of a role in a period as CSV rows (the access review's "Export CSV"), in csvRow's dialect. */
import { membershipActorLabel, type MemberInterval } from "./role-membership";

export const ACCESS_REVIEW_CSV_HEADER = [
  "email",
  "userId",
  "heldFrom",
  "heldUntil",
  "grantedBy",
  "removedBy",
  "endReason",
  "grantEventId",
] as const;

export function accessReviewCsvCells(m: MemberInterval): string[] {
  return [
    m.email,
    m.userId,
    m.heldFrom,
    m.heldUntil ?? "",
    membershipActorLabel(m.grantedBy),
    membershipActorLabel(m.removedBy),
    m.endReason ?? "",
    m.grantEventId,
  ];
}
