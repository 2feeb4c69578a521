"use client";
import { FormStatus, SubmitButton } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { unassignRoleAction } from "@/modules/users/actions/unassign-role";
import { userKeys } from "./user-query-keys";

/** The "Remove" button beside one of the user's roles. */
export function UnassignRoleForm({ userId, roleId, roleName }: { userId: string; roleId: string; roleName: string }) {
  const [state, formAction] = useCommandForm(unassignRoleAction, (r) => [
    userKeys.detail(r.aggregateId),
  ]);
  return (
    <form action={formAction} className="inline-flex flex-col items-end gap-1">
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="roleId" value={roleId} />
      <SubmitButton tone="secondary" size="sm" aria-label={`Remove role ${roleName}`}>
        Remove
      </SubmitButton>
      {state?.ok === false && <FormStatus state={state} />}
      {/* This form unmounts once the read model drops the role, which ends the polling. */}
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected)} />
    </form>
  );
}
