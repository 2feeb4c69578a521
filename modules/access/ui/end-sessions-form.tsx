"use client";
import { useActionState } from "react";
import { SubmitButton } from "@/lib/ui/form-controls";
import { endSessionsAction, type EndSessionsState } from "@/modules/access/actions/end-sessions";
import { MessageStatus } from "./message-status";

/** Signs a user out of every console session (recorded as UserSessionsEnded). */
export function EndSessionsForm({ userId }: { userId: string }) {
  const [state, formAction] = useActionState<EndSessionsState, FormData>(endSessionsAction, null);
  return (
    <form action={formAction} noValidate className="space-y-3">
      <MessageStatus state={state} />
      <input type="hidden" name="userId" value={userId} />
      <SubmitButton tone="secondary">Sign out everywhere</SubmitButton>
    </form>
  );
}
