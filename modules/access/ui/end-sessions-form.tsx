"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton } from "@/lib/ui/form-controls";
import { endSessionsAction, type EndSessionsState } from "@/modules/access/actions/end-sessions";

/** Signs a user out of every console session (recorded as UserSessionsEnded). */
export function EndSessionsForm({ userId }: { userId: string }) {
  const [state, formAction] = useActionState<EndSessionsState, FormData>(endSessionsAction, null);
  const done = state?.ok && "message" in state ? state.message : null;
  const failed = state && !state.ok ? state : null;
  return (
    <form action={formAction} noValidate className="space-y-3">
      <FormStatus state={failed} />
      {done && (
        <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
          {done}
        </p>
      )}
      <input type="hidden" name="userId" value={userId} />
      <SubmitButton tone="secondary">Sign out everywhere</SubmitButton>
    </form>
  );
}
