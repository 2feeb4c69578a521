"use client";
import { useEffect, useRef, useState } from "react";
import type { ActionState } from "@/lib/actions/safe-action";
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
  // The version the admin started typing from. Live updates re-render this page
  // when anyone changes the user; without this, the hidden version would follow
  // along and a save would silently overwrite the other change instead of
  // reporting the conflict. A successful save of ours starts a fresh edit.
  const [editing, setEditing] = useState<{ version: number; since: ActionState } | null>(null);
  const isEditing = editing !== null && !(state?.ok && state !== editing.since);
  const expectedVersion = isEditing ? editing.version : version;
  // Typing that happened before hydration fired no onChange: catch it once, on mount.
  const formRef = useRef<HTMLFormElement>(null);
  const mountVersion = useRef(version);
  useEffect(() => {
    const fields = formRef.current?.querySelectorAll<HTMLInputElement>("input:not([type=hidden])") ?? [];
    const typed = [...fields].some((input) => input.value !== input.defaultValue);
    if (typed) setEditing((current) => current ?? { version: mountVersion.current, since: null });
  }, []);
  return (
    <form
      ref={formRef}
      action={formAction}
      onChange={() => {
        if (!isEditing) setEditing({ version, since: state });
      }}
      noValidate
      className="space-y-4"
    >
      <input type="hidden" name="userId" value={userId} />
      <input type="hidden" name="expectedVersion" value={expectedVersion} />
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
