"use client";
import { useState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { RefreshWhilePending } from "@/lib/ui/refresh-while-pending";
import { useCommandForm } from "@/lib/ui/use-command-form";
import { updateRoleAction } from "@/modules/roles/actions/update-role";
import { activityKeys } from "@/modules/activity/ui/activity-query-keys";
import { roleKeys } from "./role-query-keys";

export interface EditRoleFormProps {
  roleId: string;
  /** The version this page was rendered from. */
  version: number;
  name: string;
  description: string;
}

/**
 * Name and description, saved with the version the admin started editing
 * from. Live updates re-render the page with newer versions; while the form is
 * untouched it follows them, but once the admin types, the version stays the
 * one they saw, so a change made meanwhile by someone else is reported as a
 * conflict instead of being silently overwritten.
 */
export function EditRoleForm({ roleId, version, name, description }: EditRoleFormProps) {
  const [editingFrom, setEditingFrom] = useState<number | null>(null);
  const [state, formAction] = useCommandForm(updateRoleAction, (r) => {
    setEditingFrom(null); // saved: follow the page again
    return [roleKeys.detail(r.aggregateId), roleKeys.lists(), activityKeys.all];
  });
  const expectedVersion = editingFrom ?? version;
  const isConflict = state?.ok === false && state.code === "conflict";
  const changedMeanwhile = editingFrom !== null && version > editingFrom && !isConflict;

  return (
    <form
      action={formAction}
      noValidate
      onChange={() => setEditingFrom((v) => v ?? version)}
      className="space-y-4"
    >
      <input type="hidden" name="roleId" value={roleId} />
      <input type="hidden" name="expectedVersion" value={expectedVersion} />
      <FormStatus state={state} success={state?.ok && !state.changed ? "Nothing to save: no field changed." : "Changes saved."}>
        {isConflict && (
          <p className="mt-1">
            {/* A full reload, so the form starts again from the latest version. */}
            <a href={`/roles/${roleId}`} className="font-medium underline underline-offset-2">
              Reload the latest version
            </a>
          </p>
        )}
      </FormStatus>
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
      <div className="flex flex-wrap items-center gap-3">
        <SubmitButton>Save changes</SubmitButton>
        <RefreshWhilePending pending={Boolean(state?.ok && !state.projected && version < state.version)} />
      </div>
    </form>
  );
}
