"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef } from "react";
import { Badge } from "@/lib/ui/badge";
import { Spinner } from "@/lib/ui/form-controls";
import { formatDateTime } from "@/lib/ui/format";
import { buttonClass } from "@/lib/ui/styles";
import type { StateAt } from "@/modules/users/read/user-timeline";
import { userKeys } from "./user-query-keys";

async function fetchStateAt(userId: string, sequence: number, signal: AbortSignal): Promise<StateAt> {
  const response = await fetch(`/api/users/${userId}/state?at=${sequence}`, { signal });
  if (!response.ok) throw new Error(`The state could not be computed (HTTP ${response.status}).`);
  return (await response.json()) as StateAt;
}

/**
 * Time travel: the user's whole state right after event `sequence`, folded on
 * the server from the user's events up to it. A modal <dialog>: focus moves
 * in, Escape closes, focus returns to the button that opened it.
 */
export function StateAtDialog({ userId, sequence, onClose }: { userId: string; sequence: number; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const query = useQuery({
    queryKey: userKeys.stateAt(userId, sequence),
    queryFn: ({ signal }) => fetchStateAt(userId, sequence, signal),
    staleTime: Infinity, // the events up to `sequence` never change
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);

  const state = query.data?.state ?? null;
  const roles = state ? Object.entries(state.roles).sort((a, b) => a[1].localeCompare(b[1])) : [];

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      // Escape: let the parent unmount us rather than the browser close the dialog, so the
      // only close() is the effect's cleanup (whose "close" event must not call onClose again).
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose(); // a click on the backdrop
      }}
      className="m-auto w-[min(32rem,calc(100vw-2rem))] rounded-lg border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-zinc-900/40"
    >
      <div className="flex items-center justify-between border-b border-zinc-100 px-5 py-3">
        <h2 id={titleId} className="text-sm font-semibold">
          State after event {sequence}
        </h2>
        <button type="button" onClick={onClose} className={buttonClass("secondary", "sm")}>
          Close
        </button>
      </div>
      <div className="px-5 py-4 text-sm">
        <p className="mb-3 text-xs text-zinc-500">
          Folded from this user&apos;s events 1–{sequence}, exactly as the command side and the projector fold them.
        </p>
        {query.isPending ? (
          <p role="status" className="flex items-center gap-2 text-zinc-500">
            <Spinner /> Replaying events…
          </p>
        ) : query.isError ? (
          <p role="alert" className="text-red-700">
            {query.error.message}
          </p>
        ) : !state ? (
          <p className="text-zinc-500">These events do not fold into a user.</p>
        ) : (
          <dl className="grid grid-cols-[8rem_1fr] gap-x-4 gap-y-2">
            <dt className="text-zinc-500">Email</dt>
            <dd className="min-w-0 break-all font-medium">{state.email}</dd>
            <dt className="text-zinc-500">Name</dt>
            <dd className="min-w-0 break-words font-medium">{state.name}</dd>
            <dt className="text-zinc-500">Status</dt>
            <dd>{state.isDeleted ? <Badge tone="red">Deleted</Badge> : <Badge tone="green">Live</Badge>}</dd>
            <dt className="text-zinc-500">Version</dt>
            <dd className="tabular-nums">{state.version}</dd>
            <dt className="text-zinc-500">Roles</dt>
            <dd>
              {roles.length === 0 ? (
                <span className="text-zinc-400">None</span>
              ) : (
                <ul aria-label="Roles at this point" className="flex flex-wrap gap-1">
                  {roles.map(([id, name]) => (
                    <li key={id}>
                      <Badge tone="violet">{name}</Badge>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
            <dt className="text-zinc-500">Created</dt>
            <dd>{formatDateTime(new Date(state.createdAt))}</dd>
            <dt className="text-zinc-500">Updated</dt>
            <dd>{formatDateTime(new Date(state.updatedAt))}</dd>
            {state.deletedAt && (
              <>
                <dt className="text-zinc-500">Deleted</dt>
                <dd>{formatDateTime(new Date(state.deletedAt))}</dd>
              </>
            )}
            <dt className="text-zinc-500">Last login</dt>
            <dd>{state.lastLoginAt ? formatDateTime(new Date(state.lastLoginAt)) : <span className="text-zinc-400">Never</span>}</dd>
          </dl>
        )}
      </div>
    </dialog>
  );
}
