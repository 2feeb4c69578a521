"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useActionState, useState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import { eraseUserAction } from "@/modules/privacy/actions/erase-user";
import { userKeys } from "@/modules/users/ui/user-query-keys";

/**
 * Erasure in two steps: "Erase personal data" opens the form, which asks for
 * the user's email ("Email to confirm") and a reason, then "Erase permanently".
 */
export function ErasePersonForm({ userId }: { userId: string }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [state, formAction] = useActionState(async (prev: Awaited<ReturnType<typeof eraseUserAction>> | null, formData: FormData) => {
    const result = await eraseUserAction(prev, formData);
    // Every timeline may name this person as actor: all of them change.
    if (result.ok) await queryClient.invalidateQueries({ queryKey: userKeys.all });
    return result;
  }, null);

  if (state?.ok) {
    return (
      <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
        Personal data erased: their key is destroyed, and every page now shows “[erased]” in its place.
        {state.eventsInClear > 0 && (
          <>
            {" "}
            {state.eventsInClear === 1 ? "One event" : `${state.eventsInClear} events`} in the log still carry it in clear
            (written before encryption or by another service): the console shows them erased, but the log itself keeps
            them (README, Privacy and erasure).
          </>
        )}
      </p>
    );
  }
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)} className={buttonClass("dangerOutline")}>
        Erase personal data
      </button>
    );
  }
  return (
    <form action={formAction} noValidate className="space-y-4 rounded-md bg-red-50 p-4 ring-1 ring-red-200">
      <input type="hidden" name="userId" value={userId} />
      <p className="text-sm text-red-900">
        This destroys the key that encrypts this person’s email, name, IP addresses and user agents in the log. It cannot
        be undone. The account is deleted; the history stays, with “[erased]” in place of their data.
      </p>
      <FormStatus state={state} />
      <TextField
        label="Email to confirm"
        name="confirmEmail"
        type="email"
        autoComplete="off"
        required
        error={fieldError(state, "confirmEmail")}
        hint="Type the user's email exactly as shown above."
      />
      <div className="space-y-1.5">
        <label htmlFor="erase-reason" className="block text-sm font-medium text-zinc-800">
          Reason
        </label>
        <textarea
          id="erase-reason"
          name="reason"
          rows={2}
          required
          defaultValue={submittedValue(state, "reason") ?? ""}
          aria-invalid={fieldError(state, "reason") ? true : undefined}
          aria-describedby="erase-reason-hint"
          className={inputClass}
        />
        {fieldError(state, "reason") ? (
          <p className="text-sm text-red-700">{fieldError(state, "reason")}</p>
        ) : (
          <p id="erase-reason-hint" className="text-xs text-zinc-500">
            Kept in the audit log in clear (e.g. “GDPR request #1234”): name no one.
          </p>
        )}
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <SubmitButton tone="danger">Erase permanently</SubmitButton>
        <button type="button" onClick={() => setOpen(false)} className={buttonClass("secondary")}>
          Cancel
        </button>
      </div>
    </form>
  );
}
