"use client";
import { useActionState } from "react";
import { FormStatus, SubmitButton, TextField, fieldError, submittedValue } from "@/lib/ui/form-controls";
import { ConfirmSubmit } from "@/lib/ui/confirm-submit";
import { inputClass } from "@/lib/ui/styles";
import { createTokenAction, revokeTokenAction } from "@/modules/access/actions/api-tokens";

export function CreateTokenForm() {
  const [state, formAction] = useActionState(createTokenAction, null);
  const created = state?.ok ? state.token : null;
  const failed = state && !state.ok ? state : null;
  return (
    <div className="space-y-4">
      {created && (
        <div role="status" className="space-y-2 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200">
          <p>
            Token <strong className="font-medium">{created.name}</strong> ({created.scope}) created. Copy it now: it is
            not shown again.
          </p>
          <label className="block text-xs font-medium text-emerald-900" htmlFor="new-token">
            New API token
          </label>
          <input id="new-token" readOnly value={created.secret} className={`${inputClass} font-mono`} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      <form action={formAction} noValidate className="flex flex-wrap items-end gap-3" key={created?.id ?? "new"}>
        <div className="min-w-56 flex-1">
          <TextField
            label="Name"
            name="name"
            required
            placeholder="auth-service"
            defaultValue={submittedValue(failed, "name")}
            error={fieldError(failed, "name")}
          />
        </div>
        <div className="space-y-1.5">
          <label htmlFor="field-scope" className="block text-sm font-medium text-zinc-800">
            Scope
          </label>
          <select id="field-scope" name="scope" defaultValue={submittedValue(failed, "scope") ?? "read"} className={inputClass}>
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
        </div>
        <SubmitButton>Create token</SubmitButton>
      </form>
      <p className="text-xs text-zinc-500">
        The name is shown as the actor of every event the token causes. A read token searches and reads; a write token
        also runs user and role commands.
      </p>
      <FormStatus state={failed} />
    </div>
  );
}

export function RevokeTokenForm({ tokenId, name }: { tokenId: string; name: string }) {
  const [state, formAction] = useActionState(revokeTokenAction, null);
  return (
    <form action={formAction}>
      <input type="hidden" name="tokenId" value={tokenId} />
      <ConfirmSubmit
        label="Revoke"
        ariaLabel={`Revoke token ${name}`}
        size="sm"
        question={<>Requests with &ldquo;{name}&rdquo; are refused from now on.</>}
        confirmLabel="Yes, revoke"
      />
      {state && !state.ok && (
        <p role="alert" className="mt-1 text-xs text-red-700">
          {state.message}
        </p>
      )}
    </form>
  );
}
