import { FormStatus } from "@/lib/ui/form-controls";
import type { ActionState } from "@/lib/actions/safe-action";

/** What an access form's last submission answered: its error, or its success message. */
export function MessageStatus({ state }: { state: ActionState<{ message: string }> }) {
  const done = state?.ok ? state.message : null;
  return (
    <>
      <FormStatus state={state && !state.ok ? state : null} />
      {done && (
        <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
          {done}
        </p>
      )}
    </>
  );
}
