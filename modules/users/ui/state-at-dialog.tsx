"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { Badge } from "@/lib/ui/badge";
import { Spinner } from "@/lib/ui/form-controls";
import { formatDateTime } from "@/lib/ui/format";
import { buttonClass } from "@/lib/ui/styles";
import { compareStates } from "@/modules/users/domain/compare-states";
import type { UserState } from "@/modules/users/domain/user-state";
import type { StateAt } from "@/modules/users/read/user-timeline";
import { inputClass } from "@/lib/ui/styles";
import { userKeys } from "./user-query-keys";

async function fetchStateAt(userId: string, sequence: number, signal: AbortSignal): Promise<StateAt> {
  const response = await fetch(`/api/users/${userId}/state?at=${sequence}`, { signal });
  if (!response.ok) throw new Error(`The state could not be computed (HTTP ${response.status}).`);
  return (await response.json()) as StateAt;
}

const useStateAt = (userId: string, sequence: number | null) =>
  useQuery({
    queryKey: userKeys.stateAt(userId, sequence ?? 0),
    queryFn: ({ signal }) => fetchStateAt(userId, sequence!, signal),
    enabled: sequence !== null,
    staleTime: Infinity, // the events up to `sequence` never change
  });

/**
 * Time travel: the user's whole state right after event `sequence`, folded on
 * the server from the user's events up to it, and, on request, compared with
 * the state after any other event of theirs (both states side by side, then
 * what differs). A modal <dialog>: focus moves in, Escape closes, focus
 * returns to the button that opened it.
 */
export function StateAtDialog({
  userId,
  sequence,
  latest,
  onClose,
}: {
  userId: string;
  sequence: number;
  /** The user's last event: the highest point to compare with. */
  latest: number;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const compareId = useId();
  const [compareWith, setCompareWith] = useState<number | null>(null);
  const [draft, setDraft] = useState(String(latest));
  const query = useStateAt(userId, sequence);
  const other = useStateAt(userId, compareWith);

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
          {compareWith === null ? `State after event ${sequence}` : `Event ${sequence} compared with event ${compareWith}`}
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
        ) : compareWith !== null ? (
          <Comparison a={{ sequence, state }} b={compareWith} other={other} />
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
        {state && (
          <form
            className="mt-4 flex items-end gap-2 border-t border-zinc-100 pt-3"
            onSubmit={(e) => {
              e.preventDefault();
              const n = Number(draft);
              if (Number.isInteger(n) && n >= 1 && n <= latest) setCompareWith(n);
            }}
          >
            <div className="space-y-1">
              <label htmlFor={compareId} className="block text-xs font-medium text-zinc-700">
                Compare with event
              </label>
              <input
                id={compareId}
                type="number"
                min={1}
                max={latest}
                required
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
                className={`${inputClass} w-28`}
              />
            </div>
            <button type="submit" className={buttonClass("secondary", "sm")}>
              Compare
            </button>
            {compareWith !== null && (
              <button type="button" onClick={() => setCompareWith(null)} className={buttonClass("secondary", "sm")}>
                Only event {sequence}
              </button>
            )}
          </form>
        )}
      </div>
    </dialog>
  );
}

const show = (v: string | null) => v ?? "—";
const time = (iso: string | null) => (iso ? formatDateTime(new Date(iso)) : null);

/** Two states side by side (earlier event first), then what differs between them. */
function Comparison({
  a,
  b,
  other,
}: {
  a: { sequence: number; state: UserState };
  b: number;
  other: ReturnType<typeof useStateAt>;
}) {
  if (other.isPending) {
    return (
      <p role="status" className="flex items-center gap-2 text-zinc-500">
        <Spinner /> Replaying events…
      </p>
    );
  }
  if (other.isError) return <p role="alert" className="text-red-700">{other.error.message}</p>;
  const points = [a, { sequence: b, state: other.data.state }].sort((x, y) => x.sequence - y.sequence);
  const [from, to] = points as [{ sequence: number; state: UserState | null }, { sequence: number; state: UserState | null }];
  const rows: [string, (s: UserState | null) => string | null][] = [
    ["Email", (s) => s?.email ?? null],
    ["Name", (s) => s?.name ?? null],
    ["Status", (s) => (s ? (s.isDeleted ? "Deleted" : "Live") : null)],
    ["Roles", (s) => (s ? Object.values(s.roles).sort().join(", ") || "None" : null)],
    ["Version", (s) => (s ? String(s.version) : null)],
    ["Last login", (s) => time(s?.lastLoginAt ?? null) ?? (s ? "Never" : null)],
  ];
  const differences = compareStates(from.state, to.state);
  return (
    <>
      <table className="w-full text-left text-sm">
        <caption className="sr-only">States compared</caption>
        <thead className="text-xs text-zinc-500">
          <tr>
            <th scope="col" className="py-1 pr-3 font-medium">Field</th>
            <th scope="col" className="py-1 pr-3 font-medium">After event {from.sequence}</th>
            <th scope="col" className="py-1 font-medium">After event {to.sequence}</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100">
          {rows.map(([label, value]) => {
            const x = value(from.state);
            const y = value(to.state);
            return (
              <tr key={label} className={x !== y ? "bg-amber-50" : undefined}>
                <th scope="row" className="py-1.5 pr-3 font-normal text-zinc-500">{label}</th>
                <td className="py-1.5 pr-3 break-all">{show(x)}</td>
                <td className="py-1.5 break-all">{show(y)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3 className="mt-4 mb-1 text-xs font-semibold text-zinc-700">Differences</h3>
      {differences.length === 0 ? (
        <p className="text-zinc-500">None: the two states are the same.</p>
      ) : (
        <ul aria-label="Differences" className="space-y-1">
          {differences.map((d, i) => (
            <li key={i} className="break-all">
              <span className="text-zinc-500">{d.label}:</span> <del className="text-zinc-500">{show(d.before)}</del>{" "}
              <span aria-label="changed to">→</span> <ins className="no-underline">{show(d.after)}</ins>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
