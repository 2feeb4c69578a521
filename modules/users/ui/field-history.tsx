"use client";
import Link from "next/link";
import { useId, useState } from "react";
import { ActorLink } from "@/lib/ui/actor-link";
import { formatDateTime } from "@/lib/ui/format";
import { buttonClass } from "@/lib/ui/styles";
import { PROFILE_FIELDS } from "@/modules/users/domain/profile-fields";
import type { FieldHistories } from "@/modules/users/read/user-timeline";
import { actorLabel } from "./actor-label";

/**
 * Each profile field with its current value and a "History of <Field>" button
 * that shows every value it has had: who set it, when, and a link to the
 * timeline entry that did.
 */
export function FieldHistory({
  userId,
  current,
  histories,
}: {
  userId: string;
  current: Record<string, string>;
  histories: FieldHistories;
}) {
  const [open, setOpen] = useState<string | null>(null);
  const baseId = useId();
  return (
    <dl className="divide-y divide-zinc-100 text-sm">
      {PROFILE_FIELDS.map(({ field, label }) => {
        const panelId = `${baseId}-${field}`;
        const values = histories[field];
        const isOpen = open === field;
        return (
          <div key={field} className="py-2.5">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <div className="min-w-0">
                <dt className="text-xs text-zinc-500">{label}</dt>
                <dd className="font-medium break-all text-zinc-900">{current[field]}</dd>
              </div>
              <button
                type="button"
                aria-expanded={isOpen}
                aria-controls={panelId}
                onClick={() => setOpen(isOpen ? null : field)}
                className={buttonClass("secondary", "sm")}
              >
                History of {label}
              </button>
            </div>
            {isOpen && (
              <ol id={panelId} aria-label={`History of ${label}`} className="mt-2 space-y-2 rounded-md bg-zinc-50 px-3 py-2 text-xs ring-1 ring-zinc-100">
                {values.map((v, i) => (
                  <li key={v.eventId}>
                    <span className="font-medium break-all text-zinc-900">{v.value ?? "(none)"}</span>
                    {i === 0 && <span className="ml-1.5 text-zinc-500">(current)</span>}
                    <span className="block text-zinc-500">
                      set by <ActorLink actor={v.actor}>{actorLabel(v.actor)}</ActorLink> ·{" "}
                      <time dateTime={v.occurredAt}>{formatDateTime(new Date(v.occurredAt))}</time> ·{" "}
                      <Link
                        href={`/users/${userId}?event=${v.sequence}#event-${v.sequence}`}
                        className="font-medium text-zinc-700 underline underline-offset-2"
                      >
                        event #{v.sequence}
                      </Link>
                    </span>
                  </li>
                ))}
                {values.length === 0 && <li className="text-zinc-500">No recorded value.</li>}
              </ol>
            )}
          </div>
        );
      })}
    </dl>
  );
}
