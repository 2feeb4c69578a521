"use client";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { SubmitButton } from "./form-controls";
import { buttonClass } from "./styles";

/**
 * A destructive submit in two steps, inside a form: the first button only asks
 * ("Delete user"), the second really submits ("Yes, delete"). Inline rather
 * than window.confirm, so it is styled, accessible and easy to test.
 */
export function ConfirmSubmit({
  label,
  ariaLabel,
  question,
  confirmLabel = "Yes, delete",
  size = "md",
  tone = "danger",
}: {
  label: string;
  /** A longer accessible name for the first button, e.g. "Delete role Editors" in a table. */
  ariaLabel?: string;
  question: ReactNode;
  confirmLabel?: string;
  size?: "sm" | "md";
  /** "neutral" for a heavy but not destructive step (e.g. a rebuild). */
  tone?: "danger" | "neutral";
}) {
  const [isConfirming, setIsConfirming] = useState(false);
  const confirmRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (isConfirming) confirmRef.current?.querySelector<HTMLButtonElement>("button[type=submit]")?.focus();
  }, [isConfirming]);

  if (!isConfirming) {
    return (
      <button
        type="button"
        aria-label={ariaLabel}
        onClick={() => setIsConfirming(true)}
        className={buttonClass(tone === "danger" ? "dangerOutline" : "secondary", size)}
      >
        {label}
      </button>
    );
  }
  return (
    <div
      ref={confirmRef}
      role="group"
      aria-label={`Confirm: ${ariaLabel ?? label}`}
      className={`flex flex-wrap items-center gap-2 rounded-md px-3 py-2 ring-1 ${tone === "danger" ? "bg-red-50 ring-red-200" : "bg-zinc-50 ring-zinc-200"}`}
    >
      <span className={`text-sm ${tone === "danger" ? "text-red-900" : "text-zinc-800"}`}>{question}</span>
      <SubmitButton tone={tone === "danger" ? "danger" : "primary"} size={size}>
        {confirmLabel}
      </SubmitButton>
      <button type="button" onClick={() => setIsConfirming(false)} className={buttonClass("secondary", size)}>
        Cancel
      </button>
    </div>
  );
}
