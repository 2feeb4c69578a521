"use client";
import { SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { VersionedEditStatus, useVersionedEdit } from "@/lib/ui/versioned-edit";
import { updateUserAction } from "@/modules/users/actions/update-user";
import { userKeys } from "./user-query-keys";

export interface EditUserFormProps {
  userId: string;
  /** The version this page was rendered from: a save against a newer one is a conflict. */
  version: number;
  email: string;
  name: string;
}

export function EditUserForm({ userId, version, email, name }: EditUserFormProps) {
  const [state, formAction] = useCommandForm(updateUserAction, (r) => [userKeys.detail(r.aggregateId)]);
  const { formRef, onChange, expectedVersion } = useVersionedEdit(version, state);
  return (
    <form ref={formRef} action={formAction} onChange={onChange} noValidate className="space-y-4">
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="expectedVersion" value={expectedVersion} />
      <VersionedEditStatus state={state} reloadHref={`/users/${userId}`} />
      <div className="grid gap-4">
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="off"
          required
          defaultValue={submittedValue(state, "email") ?? email}
          error={fieldError(state, "email")}
        />
        <TextField
          label="Name"
          name="name"
          autoComplete="off"
          required
          defaultValue={submittedValue(state, "name") ?? name}
          error={fieldError(state, "name")}
        />
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton>Save changes</SubmitButton>
        <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
      </div>
    </form>
  );
}
