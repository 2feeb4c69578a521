"use client";
/**
 * Editing an aggregate with the version the admin saw. Live updates re-render
 * open pages whenever anyone changes the aggregate; if the hidden
 * expectedVersion followed along, a save would silently overwrite the other
 * change instead of reporting the conflict. So once the admin starts typing,
 * the version stays the one they started from; a successful save of theirs
 * starts a fresh edit. Shared by the user and role edit forms.
 */
import { useEffect, useRef, useState } from "react";
import type { ActionState } from "@/lib/actions/safe-action";
import { FormStatus } from "./form-controls";

export function useVersionedEdit(version: number, state: ActionState) {
  const [editing, setEditing] = useState<{ version: number; since: ActionState } | null>(null);
  const isEditing = editing !== null && !(state?.ok && state !== editing.since);
  const editingFrom = isEditing ? editing.version : null;
  // Typing that happened before hydration fired no onChange: catch it once, on mount.
  const formRef = useRef<HTMLFormElement>(null);
  const mountVersion = useRef(version);
  useEffect(() => {
    const fields = formRef.current?.querySelectorAll<HTMLInputElement>("input:not([type=hidden])") ?? [];
    const typed = [...fields].some((input) => input.value !== input.defaultValue);
    if (typed) setEditing((current) => current ?? { version: mountVersion.current, since: null });
  }, []);
  return {
    formRef,
    onChange: () => {
      if (!isEditing) setEditing({ version, since: state });
    },
    /** The version the admin started editing from, or null while the form is untouched. */
    editingFrom,
    expectedVersion: editingFrom ?? version,
    isConflict: state?.ok === false && state.code === "conflict",
  };
}

/** The save result, with a full-reload link on a conflict so the form starts again from the latest version. */
export function VersionedEditStatus({ state, reloadHref }: { state: ActionState; reloadHref: string }) {
  const isConflict = state?.ok === false && state.code === "conflict";
  return (
    <FormStatus state={state} success={state?.ok && !state.changed ? "Nothing to save: no field changed." : "Changes saved."}>
      {isConflict && (
        <p className="mt-1">
          <a href={reloadHref} className="font-medium underline underline-offset-2">
            Reload the latest version
          </a>
        </p>
      )}
    </FormStatus>
  );
}
