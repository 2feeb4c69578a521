"use client";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
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
  const [state, formAction] = useCommandForm(updateUserAction, (r) => [userKeys.detail(r.aggregateId), userKeys.lists()]);
  const isConflict = state?.ok === false && state.code === "conflict";
  return (
    <form action={formAction} noValidate className="space-y-4">
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="expectedVersion" value={version} />
      <FormStatus state={state} success={state?.ok && !state.changed ? "Nothing to save: no field changed." : "Changes saved."}>
        {isConflict && (
          <p className="mt-1">
            {/* A full reload, so the form starts again from the latest version. */}
            <a href={`/users/${userId}`} className="font-medium underline underline-offset-2">
              Reload the latest version
            </a>
          </p>
        )}
      </FormStatus>
      <div className="grid gap-4 sm:grid-cols-2">
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
