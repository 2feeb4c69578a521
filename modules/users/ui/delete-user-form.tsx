"use client";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { FormStatus } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { deleteUserAction } from "@/modules/users/actions/delete-user";
import { userKeys } from "./user-query-keys";

export function DeleteUserForm({ userId, version, email }: { userId: string; version: number; email: string }) {
  const [state, formAction] = useCommandForm(deleteUserAction, (r) => [
    userKeys.detail(r.aggregateId),
  ]);
  return (
    <form action={formAction} className="space-y-3">
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="expectedVersion" value={version} />
      <FormStatus state={state} success="User deleted.">
        {state?.ok === false && state.code === "conflict" && (
          <p className="mt-1">
            <a href={`/users/${userId}`} className="font-medium underline underline-offset-2">
              Reload the latest version
            </a>
          </p>
        )}
      </FormStatus>
      <ConfirmSubmit
        label="Delete user"
        question={
          <>
            Delete <strong className="font-medium">{email}</strong>? Their history is kept.
          </>
        }
        confirmLabel="Yes, delete user"
      />
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
    </form>
  );
}
