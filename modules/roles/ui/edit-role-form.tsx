"use client";
import { SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { VersionedEditStatus, useVersionedEdit } from "@/lib/ui/versioned-edit";
import { updateRoleAction } from "@/modules/roles/actions/update-role";
import { PermissionsField } from "./permissions-field";

export interface EditRoleFormProps {
  roleId: string;
  /** The version this page was rendered from. */
  version: number;
  name: string;
  description: string;
  permissions: string[];
  /** Built-in roles keep their name and permissions. */
  builtIn: boolean;
}

/**
 * Name and description, saved with the version the admin started editing
 * from (lib/ui/versioned-edit.tsx), with a notice when someone else changed
 * the role meanwhile.
 */
export function EditRoleForm({ roleId, version, name, description, permissions, builtIn }: EditRoleFormProps) {
  // No client query shows a role: the action revalidates the server-rendered pages.
  const [state, formAction] = useCommandForm(updateRoleAction, () => []);
  const { formRef, onChange, expectedVersion, editingFrom, isConflict } = useVersionedEdit(version, state);
  const changedMeanwhile = editingFrom !== null && version > editingFrom && !isConflict;

  return (
    <form ref={formRef} action={formAction} onChange={onChange} noValidate className="space-y-4">
      <input type="hidden" name="roleId" value={roleId} />
      <input type="hidden" name="expectedVersion" value={expectedVersion} />
      <VersionedEditStatus state={state} reloadHref={`/roles/${roleId}`} />
      {changedMeanwhile && (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200">
          Someone else changed this role while you were editing (now version {version}). Saving will report a
          conflict;{" "}
          <a href={`/roles/${roleId}`} className="font-medium underline underline-offset-2">
            reload the latest version
          </a>{" "}
          to start again from it.
        </p>
      )}
      <TextField
        label="Name"
        name="name"
        autoComplete="off"
        required
        disabled={builtIn}
        hint={builtIn ? "A built-in role keeps its name." : undefined}
        defaultValue={submittedValue(state, "name") ?? name}
        error={fieldError(state, "name")}
      />
      <TextField
        label="Description"
        name="description"
        autoComplete="off"
        defaultValue={submittedValue(state, "description") ?? description}
        error={fieldError(state, "description")}
        hint="Optional."
      />
      <PermissionsField
        key={permissions.join()}
        idPrefix={`role-${roleId}-permissions`}
        selected={permissions}
        disabled={builtIn}
        error={fieldError(state, "permissions")}
      />
      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton>Save changes</SubmitButton>
        <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
      </div>
    </form>
  );
}
