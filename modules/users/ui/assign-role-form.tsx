"use client";
import { FormStatus, SubmitButton, fieldError } from "@/lib/ui/form-controls";
import { inputClass } from "@/lib/ui/styles";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { assignRoleAction } from "@/modules/users/actions/assign-role";
import { roleKeys } from "@/modules/roles/ui/role-query-keys";
import { userKeys } from "./user-query-keys";

export function AssignRoleForm({
  userId,
  version,
  roles,
}: {
  userId: string;
  version: number;
  /** Live roles the user does not have yet. */
  roles: { id: string; name: string }[];
}) {
  const [state, formAction] = useCommandForm(assignRoleAction, (r) => [
    userKeys.detail(r.aggregateId),
    userKeys.lists(),
    roleKeys.lists(),
  ]);
  const error = fieldError(state, "roleId");
  if (roles.length === 0) {
    return <p className="text-sm text-zinc-500">No other roles to assign.</p>;
  }
  return (
    <form action={formAction} className="space-y-2">
      <input type="hidden" name="userId" value={userId} />
      <div className="flex flex-wrap items-end gap-2">
        <div className="min-w-48 flex-1 space-y-1.5">
          <label htmlFor="assign-role" className="block text-sm font-medium text-zinc-800">
            Role to assign
          </label>
          <select
            id="assign-role"
            name="roleId"
            required
            defaultValue=""
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "assign-role-error" : undefined}
            className={inputClass}
          >
            <option value="" disabled>
              Choose a role…
            </option>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <SubmitButton tone="secondary">Assign role</SubmitButton>
      </div>
      {error && (
        <p id="assign-role-error" className="text-sm text-red-700">
          {error}
        </p>
      )}
      {!error && <FormStatus state={state} />}
      <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
    </form>
  );
}
