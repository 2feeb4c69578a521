"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { createUserAction } from "@/modules/users/actions/create-user";

/** On success the action redirects to the new user's page. */
export function CreateUserForm() {
  const [state, formAction] = useActionState(createUserAction, null);
  return (
    <form action={formAction} noValidate className="space-y-5">
      <FormStatus state={state} />
      <TextField
        label="Email"
        name="email"
        type="email"
        autoComplete="off"
        required
        placeholder="ada@example.com"
        defaultValue={submittedValue(state, "email")}
        error={fieldError(state, "email")}
      />
      <TextField
        label="Name"
        name="name"
        autoComplete="off"
        required
        placeholder="Ada Lovelace"
        defaultValue={submittedValue(state, "name")}
        error={fieldError(state, "name")}
      />
      <div className="flex items-center gap-3 pt-1">
        <SubmitButton>Create user</SubmitButton>
      </div>
    </form>
  );
}
