"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { completeSetupAction } from "@/modules/access/actions/complete-setup";

export function SetupForm({ token }: { token: string }) {
  const [state, formAction] = useActionState(completeSetupAction, null);
  return (
    <form action={formAction} noValidate className="space-y-5">
      <FormStatus state={state} />
      <input type="hidden" name="token" value={token} />
      <TextField label="Email" name="email" type="email" autoComplete="username" required defaultValue={submittedValue(state, "email")} error={fieldError(state, "email")} />
      <TextField label="Name" name="name" autoComplete="name" required defaultValue={submittedValue(state, "name")} error={fieldError(state, "name")} />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 12 characters."
        error={fieldError(state, "password")}
      />
      <SubmitButton className="w-full">Create administrator</SubmitButton>
    </form>
  );
}
