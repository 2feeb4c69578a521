/**
 * The difference between a user's states at two points of their history (time
 * travel's comparison): field by field, roles as gained and lost. Pure.
 */
import { PROFILE_FIELDS } from "./profile-fields";
import type { UserState } from "./user-state";

export interface StateDifference {
  label: string;
  before: string | null;
  after: string | null;
}

const status = (s: UserState | null) => (!s ? null : s.isDeleted ? "Deleted" : "Live");

/** What changed from `a` to `b` (either may be null: no user yet). Roles are compared by id, named as each state names them. */
export function compareStates(a: UserState | null, b: UserState | null): StateDifference[] {
  const out: StateDifference[] = [];
  for (const { field, label } of PROFILE_FIELDS) {
    if (a?.[field] !== b?.[field]) out.push({ label, before: a?.[field] ?? null, after: b?.[field] ?? null });
  }
  if (status(a) !== status(b)) out.push({ label: "Status", before: status(a), after: status(b) });
  const rolesA = a?.roles ?? {};
  const rolesB = b?.roles ?? {};
  for (const [id, name] of Object.entries(rolesB)) {
    if (!(id in rolesA)) out.push({ label: "Role gained", before: null, after: name });
    else if (rolesA[id] !== name) out.push({ label: "Role name", before: rolesA[id]!, after: name });
  }
  for (const [id, name] of Object.entries(rolesA)) {
    if (!(id in rolesB)) out.push({ label: "Role lost", before: name, after: null });
  }
  if ((a?.lastLoginAt ?? null) !== (b?.lastLoginAt ?? null)) {
    out.push({ label: "Last login", before: a?.lastLoginAt ?? null, after: b?.lastLoginAt ?? null });
  }
  return out;
}
