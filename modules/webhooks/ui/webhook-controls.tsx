"use client";
import { useActionState, useState } from "react";
import type { ActionState } from "@/lib/actions/safe-action";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { FormStatus, SubmitButton, fieldError } from "@/lib/ui/form-controls";
import { inputClass } from "@/lib/ui/styles";
import { deleteWebhookAction } from "../actions/delete-webhook";
import { disableWebhookAction } from "../actions/disable-webhook";
import { enableWebhookAction } from "../actions/enable-webhook";
import { replayWebhookAction } from "../actions/replay-webhook";
import { rotateWebhookSecretAction } from "../actions/rotate-webhook-secret";
import { sendTestEventAction } from "../actions/send-test-event";
import { SecretOnce } from "./secret-once";

function Failure({ state }: { state: ActionState<object> }) {
  return state && !state.ok ? (
    <p role="alert" className="mt-1 text-xs text-red-700">
      {state.message}
    </p>
  ) : null;
}

/** Send test event, disable or enable, rotate the secret, delete. */
export function WebhookControls({ id, status }: { id: string; status: "active" | "disabled" }) {
  const [test, testAction] = useActionState(sendTestEventAction, null);
  const [toggle, toggleAction] = useActionState(status === "active" ? disableWebhookAction : enableWebhookAction, null);
  const [rotated, rotateAction] = useActionState(rotateWebhookSecretAction, null);
  const [removed, deleteAction] = useActionState(deleteWebhookAction, null);
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-start gap-3">
        <form action={testAction}>
          <input type="hidden" name="id" value={id} />
          <SubmitButton tone="secondary">Send test event</SubmitButton>
          {test?.ok && (
            <p role="status" className="mt-1 text-xs text-zinc-600">
              Test event {test.eventId.slice(0, 8)} queued{status === "disabled" ? "; it goes out once the webhook is enabled" : ""}.
            </p>
          )}
          <Failure state={test} />
        </form>
        <form action={toggleAction}>
          <input type="hidden" name="id" value={id} />
          <SubmitButton tone="secondary">{status === "active" ? "Disable" : "Enable"}</SubmitButton>
          <Failure state={toggle} />
        </form>
        <form action={rotateAction}>
          <input type="hidden" name="id" value={id} />
          <ConfirmSubmit
            label="Rotate secret"
            tone="neutral"
            question="A new secret signs from now on; the current one still signs too for a while."
            confirmLabel="Yes, rotate"
          />
          <Failure state={rotated} />
        </form>
        <form action={deleteAction}>
          <input type="hidden" name="id" value={id} />
          <ConfirmSubmit label="Delete webhook" question="Its queue and delivery log go with it; its history stays." confirmLabel="Yes, delete" />
          <Failure state={removed} />
        </form>
      </div>
      {rotated?.ok && (
        <SecretOnce label="New signing secret" secret={rotated.secret}>
          Secret rotated. Copy the new one now: it is not shown again. The previous secret still signs (a second
          signature) until {rotated.previousValidUntil.replace("T", " ").slice(0, 16)} UTC.
        </SecretOnce>
      )}
    </div>
  );
}

/** "Replay from": the beginning of the log, or a time (read in the browser's time zone). */
export function ReplayForm({ id, busy }: { id: string; busy: boolean }) {
  const [state, formAction] = useActionState(replayWebhookAction, null);
  const [from, setFrom] = useState("time");
  const failed = state && !state.ok ? state : null;
  return (
    <form action={formAction} noValidate className="space-y-3">
      <input type="hidden" name="id" value={id} />
      {/* The browser's zone, to read the datetime-local value as the admin meant it (set once mounted). */}
      <input type="hidden" name="tzOffset" defaultValue="0" ref={(el) => void (el && (el.value = String(new Date().getTimezoneOffset())))} />
      <fieldset className="flex flex-wrap items-center gap-4 text-sm text-zinc-700">
        <legend className="sr-only">Replay from</legend>
        <label className="flex items-center gap-2">
          <input type="radio" name="from" value="time" checked={from === "time"} onChange={() => setFrom("time")} />
          A time
        </label>
        <label className="flex items-center gap-2">
          <input type="radio" name="from" value="beginning" checked={from === "beginning"} onChange={() => setFrom("beginning")} />
          The beginning of the log
        </label>
      </fieldset>
      {from === "time" && (
        <div className="max-w-xs space-y-1.5">
          <label htmlFor="field-fromTime" className="block text-sm font-medium text-zinc-800">
            Replay from
          </label>
          <input id="field-fromTime" name="fromTime" type="datetime-local" step={1} className={inputClass} aria-invalid={fieldError(failed, "fromTime") ? true : undefined} />
          {fieldError(failed, "fromTime") && <p className="text-sm text-red-700">{fieldError(failed, "fromTime")}</p>}
        </div>
      )}
      <SubmitButton tone="secondary" disabled={busy}>
        Replay
      </SubmitButton>
      {state?.ok && (
        <p role="status" className="text-sm text-zinc-700">
          Replay #{state.replayId} requested: a webhooks worker starts it within 2 s.
        </p>
      )}
      <FormStatus state={failed} />
    </form>
  );
}
