"use client";
/** Start and cancel buttons of the rebuild panel (server actions); the outcome shows under them. */
import { useActionState } from "react";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { SubmitButton } from "@/lib/ui/form-controls";
import { cancelRebuildAction, requestRebuildAction, type RebuildActionState } from "../actions/rebuild-read-model";

function Outcome({ state }: { state: RebuildActionState }) {
  if (!state) return null;
  return (
    <p role={state.ok ? "status" : "alert"} className={`text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`}>
      {state.message}
    </p>
  );
}

export function StartRebuild() {
  const [state, action] = useActionState<RebuildActionState, FormData>(requestRebuildAction, null);
  return (
    <form action={action} className="space-y-3">
      <label className="flex items-start gap-2 text-sm text-zinc-700">
        <input type="checkbox" name="acceptDifferences" className="mt-0.5 size-4 rounded border-zinc-300" />
        <span>
          Switch even if the rebuilt tables differ from the live ones
          <span className="block text-xs text-zinc-500">
            Only after a change to the projection code, when differences are expected. They are listed either way.
          </span>
        </span>
      </label>
      <ConfirmSubmit
        label="Rebuild read model"
        question="Replay the whole log into fresh tables? The console keeps serving the current ones until the switch."
        confirmLabel="Yes, rebuild"
        tone="neutral"
      />
      <Outcome state={state} />
    </form>
  );
}

export function CancelRebuild({ id }: { id: string }) {
  const [state, action] = useActionState<RebuildActionState, FormData>(cancelRebuildAction, null);
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="id" value={id} />
      <SubmitButton tone="secondary" size="sm">
        Cancel rebuild
      </SubmitButton>
      <Outcome state={state} />
    </form>
  );
}
