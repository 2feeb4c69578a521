"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { completeSetupAction } from "@/modules/access/actions/complete-setup";

export function SetupForm({ token }: { token: string }) {
  const [state, formAction] = useActionState(completeSetupAction, null);
  // A success redirects: only a failure is ever shown.
  const failed = state && !state.ok ? state : null;
  return (
    <form action={formAction} noValidate className="space-y-5">
      <FormStatus state={failed} />
      <input type="hidden" name="token" value={token} />
      <TextField label="Email" name="email" type="email" autoComplete="username" required defaultValue={submittedValue(failed, "email")} error={fieldError(failed, "email")} />
      <TextField label="Name" name="name" autoComplete="name" required defaultValue={submittedValue(failed, "name")} error={fieldError(failed, "name")} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 12 characters."
        error={fieldError(failed, "password")}
      />
      <SubmitButton className="w-full">Create administrator</SubmitButton>
    </form>
  );
}
