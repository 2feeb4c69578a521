"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { signInAction } from "@/modules/access/actions/sign-in";

export function SignInForm({ next }: { next: string }) {
  const [state, formAction] = useActionState(signInAction, null);
  // A success redirects: only a failure is ever shown.
  const failed = state && !state.ok ? state : null;
  return (
    <form action={formAction} noValidate className="space-y-5">
      <FormStatus state={failed} />
      <input type="hidden" name="next" value={next} />
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="username"
        required
        autoFocus
        defaultValue={submittedValue(failed, "email")}
        error={fieldError(failed, "email")}
      />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        error={fieldError(failed, "password")}
      />
      <SubmitButton className="w-full">Sign in</SubmitButton>
    </form>
  );
}
