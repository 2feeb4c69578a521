"use client";
import type { ReactNode } from "react";
import { inputClass } from "@/lib/ui/styles";

/** A secret shown once, selected on focus for copying. */
export function SecretOnce({ label, secret, children }: { label: string; secret: string; children: ReactNode }) {
  return (
    <div role="status" className="space-y-2 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200">
      <p>{children}</p>
      <label className="block text-xs font-medium text-emerald-900" htmlFor="webhook-secret">
        {label}
      </label>
      <input id="webhook-secret" readOnly value={secret} className={`${inputClass} font-mono`} onFocus={(e) => e.currentTarget.select()} />
    </div>
  );
}
