"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { signInAction } from "@/modules/access/actions/sign-in";

export function SignInForm({ next }: { next: string }) {
  const [state, formAction] = useActionState(signInAction, null);
  return (
    <form action={formAction} noValidate className="space-y-5">
      <FormStatus state={state} />
      <input type="hidden" name="next" value={next} />
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="username"
        required
        autoFocus
        defaultValue={submittedValue(state, "email")}
        error={fieldError(state, "email")}
      />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        error={fieldError(state, "password")}
      />
      <SubmitButton className="w-full">Sign in</SubmitButton>
    </form>
  );
}
