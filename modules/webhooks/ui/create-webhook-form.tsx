"use client";
import Link from "next/link";
import { useActionState, useState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { inputClass } from "@/lib/ui/styles";
import { createWebhookAction } from "../actions/create-webhook";
import { SecretOnce } from "./secret-once";

/** URL, event types (all or a selection), description; the secret is shown once after "Create webhook". */
export function CreateWebhookForm({ eventTypes }: { eventTypes: string[] }) {
  const [state, formAction] = useActionState(createWebhookAction, null);
  const failed = state && !state.ok ? state : null;
  const [scope, setScope] = useState(submittedValue(failed, "scope") ?? "all");
  if (state?.ok) {
    return (
      <div className="space-y-4">
        <SecretOnce label="Signing secret" secret={state.webhook.secret}>
          Webhook created. Copy its signing secret now: it is not shown again (rotate it to get a new one).
        </SecretOnce>
        <Link href={`/webhooks/${state.webhook.id}`} className="text-sm font-medium text-zinc-900 underline">
          Open the webhook
        </Link>
      </div>
    );
  }
  const typesError = fieldError(failed, "eventTypes");
  return (
    <form action={formAction} noValidate className="space-y-5">
      <TextField
        label="URL"
        name="url"
        type="url"
        required
        placeholder="https://siem.example.com/hooks/admin-console"
        defaultValue={submittedValue(failed, "url")}
        error={fieldError(failed, "url")}
        hint="Each event is POSTed here as JSON, signed (Standard Webhooks)."
      />
      <fieldset className="space-y-2" aria-describedby={typesError ? "event-types-error" : undefined}>
        <legend className="text-sm font-medium text-zinc-800">Event types</legend>
        <label className="flex items-center gap-2 text-sm text-zinc-700">
          <input type="radio" name="scope" value="all" checked={scope === "all"} onChange={() => setScope("all")} />
          All event types, including those added later
        </label>
        <label className="flex items-center gap-2 text-sm text-zinc-700">
          <input type="radio" name="scope" value="selected" checked={scope === "selected"} onChange={() => setScope("selected")} />
          A selection
        </label>
        {scope === "selected" && (
          <div className="grid gap-1 pl-6 sm:grid-cols-2">
            {eventTypes.map((t) => (
              <label key={t} className="flex items-center gap-2 text-sm text-zinc-700">
                <input type="checkbox" name="eventTypes" value={t} />
                {t}
              </label>
            ))}
          </div>
        )}
        {typesError && (
          <p id="event-types-error" className="text-sm text-red-700">
            {typesError}
          </p>
        )}
      </fieldset>
      <div className="space-y-1.5">
        <label htmlFor="field-description" className="block text-sm font-medium text-zinc-800">
          Description
        </label>
        <textarea id="field-description" name="description" rows={2} defaultValue={submittedValue(failed, "description")} className={inputClass} />
      </div>
      <FormStatus state={failed} />
      <SubmitButton>Create webhook</SubmitButton>
    </form>
  );
}
