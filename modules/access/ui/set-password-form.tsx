"use client";
import { useActionState } from "react";
import { SubmitButton, TextField, fieldError } from "@/lib/ui/form-controls";
import { setPasswordAction, type SetPasswordState } from "@/modules/access/actions/set-password";
import { MessageStatus } from "./message-status";

/** Sets or resets a user's console password; their other sessions end. */
export function SetPasswordForm({ userId, hasPassword }: { userId: string; hasPassword: boolean }) {
  const [state, formAction] = useActionState<SetPasswordState, FormData>(setPasswordAction, null);
  const done = state?.ok && "message" in state ? state.message : null;
  const failed = state && !state.ok ? state : null;
  return (
    <form action={formAction} noValidate className="space-y-4" key={done ?? "form"}>
      <MessageStatus state={state} />
      <input type="hidden" name="userId" value={userId} />
      <TextField
        label="New password"
        name="password"
        type="password"
        autoComplete="new-password"
        hint={hasPassword ? "Replaces the current password and signs the user out everywhere." : "At least 12 characters. Lets this user sign in (with a role that grants access)."}
        error={fieldError(failed, "password")}
      />
      <SubmitButton tone="secondary">{hasPassword ? "Reset password" : "Set password"}</SubmitButton>
    </form>
  );
}
