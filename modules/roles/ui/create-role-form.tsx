"use client";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { createRoleAction } from "@/modules/roles/actions/create-role";
import { NEW_ROLE_NAME_FIELD_ID } from "./new-role-button";
import { PermissionsField } from "./permissions-field";

/** `roleIds`: the roles the page shows, to tell when a new role has been projected. */
export function CreateRoleForm({ roleIds }: { roleIds: string[] }) {
  const [state, formAction] = useCommandForm(createRoleAction, () => []) // no client query shows roles;
  return (
    <form action={formAction} noValidate className="space-y-4">
      <FormStatus state={state} success="Role created." />
      <TextField
        id={NEW_ROLE_NAME_FIELD_ID}
        label="Name"
        name="name"
        autoComplete="off"
        required
        placeholder="Editors"
        defaultValue={submittedValue(state, "name")}
        error={fieldError(state, "name")}
      />
      <TextField
        label="Description"
        name="description"
        autoComplete="off"
        id="new-role-description"
        placeholder="Can edit and publish content"
        defaultValue={submittedValue(state, "description")}
        error={fieldError(state, "description")}
        hint="Optional."
      />
      <PermissionsField idPrefix="new-role-permissions" selected={[]} error={fieldError(state, "permissions")} />
      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton>Create role</SubmitButton>
        <RefreshWhilePending
          pending={Boolean(state?.ok && !state.projected && !roleIds.includes(state.aggregateId))}
        />
      </div>
    </form>
  );
}
