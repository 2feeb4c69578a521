"use client";
/** Small form building blocks shared by the modules' forms (client components). */
import { useFormStatus } from "react-dom";
import type { ComponentProps, ReactNode } from "react";
import type { ActionState } from "@/lib/actions/safe-action";
import { buttonClass, inputClass, type ButtonTone } from "./styles";

/**
 * A submit button that shows the form's pending state. The label stays the
 * same while pending (a spinner is added), so its accessible name is stable.
 */
export function SubmitButton({
  children,
  tone = "primary",
  size = "md",
  ...props
}: Omit<ComponentProps<"button">, "type"> & { tone?: ButtonTone; size?: "sm" | "md" }) {
  const { pending } = useFormStatus();
  return (
    <button
      {...props}
      type="submit"
      disabled={pending || props.disabled}
      aria-busy={pending}
      className={buttonClass(tone, size)}
    >
      {pending && <Spinner />}
      {children}
    </button>
  );
}

export function Spinner() {
  return (
    <span
      aria-hidden="true"
      className="size-3.5 animate-spin rounded-full border-2 border-current border-r-transparent"
    />
  );
}

/** The first field error for `name`, if the last submission had one. */
export function fieldError(state: ActionState<object>, name: string): string | undefined {
  return state && !state.ok ? state.fieldErrors?.[name]?.[0] : undefined;
}

/** What the admin typed last time, kept when the action failed (React resets forms after an action). */
export function submittedValue(state: ActionState<object>, name: string): string | undefined {
  return state && !state.ok ? state.values?.[name] : undefined;
}

export function TextField({
  label,
  name,
  error,
  hint,
  ...props
}: ComponentProps<"input"> & { label: string; name: string; error?: string; hint?: ReactNode }) {
  const id = props.id ?? `field-${name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
        {label}
      </label>
      <input
        {...props}
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={inputClass}
      />
      {hint && !error && (
        <p id={hintId} className="text-xs text-zinc-500">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="text-sm text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * The form-level outcome of the last submission: an error that belongs to no
 * single field, or a success note (with "pending" when the read model had not
 * caught up yet).
 */
export function FormStatus({
  state,
  success,
  children,
}: {
  state: ActionState;
  success?: string;
  /** Extra content under an error (e.g. a reload link). */
  children?: ReactNode;
}) {
  if (!state) return null;
  if (state.ok) {
    if (!success) return null;
    return (
      <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
        {success}
        {!state.projected && (
          <span className="text-emerald-900">
            {" "}
            <strong className="font-medium">Pending:</strong> the lists will show it in a moment.
          </span>
        )}
      </p>
    );
  }
  const onlyFieldErrors = state.code === "validation" && state.fieldErrors && !state.fieldErrors._form;
  return (
    <div role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200">
      <p>{onlyFieldErrors ? "Please correct the fields marked below." : state.message}</p>
      {children}
    </div>
  );
}
