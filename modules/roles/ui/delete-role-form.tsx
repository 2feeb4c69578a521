"use client";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { FormStatus } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { deleteRoleAction } from "@/modules/roles/actions/delete-role";
import { userKeys } from "@/modules/users/ui/user-query-keys";
import { roleKeys } from "./role-query-keys";

export function DeleteRoleForm({
  roleId,
  version,
  name,
  memberCount,
}: {
  roleId: string;
  version: number;
  name: string;
  memberCount: number;
}) {
  // Members lose the role too, so every user view may change.
  const [state, formAction] = useCommandForm(deleteRoleAction, (r) => [
    roleKeys.detail(r.aggregateId),
    roleKeys.lists(),
    userKeys.all,
  ]);
  return (
    <form action={formAction} className="flex flex-col items-end gap-2">
      <input type="hidden" name="roleId" value={roleId} />
      <input type="hidden" name="expectedVersion" value={version} />
      <ConfirmSubmit
        size="sm"
        label="Delete role"
        ariaLabel={`Delete role ${name}`}
        question={
          memberCount > 0
            ? `Remove it from ${memberCount} ${memberCount === 1 ? "member" : "members"} and delete it?`
            : "Delete this role?"
        }
        confirmLabel="Yes, delete role"
      />
      {state?.ok === false && <FormStatus state={state} />}
      {/* The row (and this form) goes away once the deletion is projected. */}
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected)} />
    </form>
  );
}
