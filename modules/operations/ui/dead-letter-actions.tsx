"use client";
/** Retry and Discard for one open dead letter (server actions); a failure shows under the buttons. */
import { useActionState } from "react";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { SubmitButton } from "@/lib/ui/form-controls";
import type { DeadLetterActionState } from "../actions/dead-letter-action";
import { discardDeadLetterAction } from "../actions/discard-dead-letter";
import { retryDeadLetterAction } from "../actions/retry-dead-letter";

/** `status`: the list being shown, to come back to after the action. */
export function DeadLetterActions({ id, label, status }: { id: string; label: string; status: string }) {
  const [retryState, retry] = useActionState<DeadLetterActionState, FormData>(retryDeadLetterAction, null);
  const [discardState, discard] = useActionState<DeadLetterActionState, FormData>(discardDeadLetterAction, null);
  const state = discardState ?? retryState;
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-start gap-2">
        <form action={retry}>
          <input type="hidden" name="id" value={id} />
          <input type="hidden" name="status" value={status} />
          <SubmitButton tone="secondary" size="sm" aria-label={`Retry ${label}`}>
            Retry
          </SubmitButton>
        </form>
        <form action={discard}>
          <input type="hidden" name="id" value={id} />
          <input type="hidden" name="status" value={status} />
          <ConfirmSubmit
            label="Discard"
            ariaLabel={`Discard ${label}`}
            question="Discard it? It will not be projected."
            confirmLabel="Yes, discard"
            size="sm"
          />
        </form>
      </div>
      {state && !state.ok && (
        <p role="alert" className="max-w-64 text-xs text-red-700">
          {state.message}
        </p>
      )}
    </div>
  );
}
