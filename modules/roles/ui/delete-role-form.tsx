"use client";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { FormStatus } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { deleteRoleAction } from "@/modules/roles/actions/delete-role";
import type { RoleDeletionProgress as Progress } from "@/modules/users/read/role-deletion-progress";
import { userKeys } from "@/modules/users/ui/user-query-keys";
import { RoleDeletionProgress } from "./role-deletion-progress";

/** "3 users will lose this role." — said before the admin confirms. */
export function membersLosingRole(memberCount: number): string {
  if (memberCount === 0) return "No user has this role.";
  return `${memberCount} ${memberCount === 1 ? "user" : "users"} will lose this role.`;
}

export function DeleteRoleForm({
  roleId,
  version,
  name,
  memberCount,
  size = "sm",
  progress,
}: {
  roleId: string;
  version: number;
  name: string;
  /** Live members: each one loses the role (RoleUnassignedFromUser) before RoleDeleted. */
  memberCount: number;
  size?: "sm" | "md";
  /**
   * The role's page passes its deletion's progress (null if none began): the form then shows it,
   * polled while the deletion runs (a role with 100,000 members takes a while).
   */
  progress?: Progress | null;
}) {
  // Members lose the role too, so every user's timeline may change.
  const [state, formAction, isPending] = useCommandForm(deleteRoleAction, () => [userKeys.all]);
  return (
    <form action={formAction} className="flex flex-col items-end gap-2">
      <input type="hidden" name="roleId" value={roleId} />
      <input type="hidden" name="expectedVersion" value={version} />
      <ConfirmSubmit
        size={size}
        label="Delete role"
        ariaLabel={`Delete role ${name}`}
        question={`${membersLosingRole(memberCount)} Delete “${name}”?`}
        confirmLabel="Yes, delete role"
      />
      {progress !== undefined && <RoleDeletionProgress roleId={roleId} initial={progress} watching={isPending} />}
      {state?.ok === false && <FormStatus state={state} />}
      {/* The row (and this form) goes away once the deletion is projected. */}
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected)} />
    </form>
  );
}
