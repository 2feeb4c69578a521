"use client";
import { useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import type { ActionFailure, ActionResult } from "@/lib/actions/safe-action";
import { Spinner } from "@/lib/ui/form-controls";
import { buttonClass, inputClass } from "@/lib/ui/styles";
import { changeRoleOfUsersAction } from "@/modules/users/actions/change-role-of-users";
import { deleteUserAction } from "@/modules/users/actions/delete-user";
import { userKeys } from "./user-query-keys";

interface Target {
  id: string;
  email: string;
  version: number;
}

type Operation = { kind: "assign" | "unassign"; roleId: string; roleName: string } | { kind: "delete" };

interface Outcome {
  target: Target;
  result: ActionResult;
}

/** Users per bulk role change request: the server's batch, so progress moves after each one. */
const BULK_CHUNK = 500;

type RoleChangeAnswer = Awaited<ReturnType<typeof changeRoleOfUsersAction>>;

/** An action's answer, or the failure of a request that never reached the console. */
async function reaching<T extends ActionResult<object>>(call: () => Promise<T>): Promise<T | ActionFailure> {
  try {
    return await call();
  } catch {
    return { ok: false, code: "unexpected", message: "The request did not reach the console (network error)." };
  }
}

/** One user's outcome within a chunk's answer (a refused chunk fails each of its users with its reason). */
function outcomeOf(answer: RoleChangeAnswer | ActionFailure, target: Target): ActionResult {
  if (!answer.ok) return answer;
  const mine = answer.results.find((r) => r.userId === target.id.toLowerCase());
  if (!mine) return { ok: false, code: "unexpected", message: "The console did not answer for this user." };
  if (mine.outcome === "failed") return { ok: false, code: mine.code, message: mine.message };
  return { ok: true, aggregateId: target.id, version: target.version, changed: mine.outcome === "changed", projected: answer.projected };
}

const verbs = {
  assign: { running: "Assigning", done: "Assigned" },
  unassign: { running: "Unassigning", done: "Unassigned" },
  delete: { running: "Deleting", done: "Deleted" },
} as const;

/**
 * Bulk changes over the selected users. A role change goes to the server in
 * chunks (one transaction per 500 users, each user decided on its own state,
 * each with its own outcome); a deletion is one command per user, sent one
 * after another through the action the single-user form uses, so each gets
 * its own version check.
 * Progress is shown as it goes; the result lists every failure with its
 * reason and never hides the users that succeeded. Failed users stay selected
 * so the admin can retry them.
 */
export function BulkActions({
  selected,
  roles,
  onDone,
}: {
  selected: Target[];
  roles: { id: string; name: string }[];
  /** Called with the ids to keep selected (the failed ones). */
  onDone: (keepSelected: string[]) => void;
}) {
  const queryClient = useQueryClient();
  const roleSelectId = useId();
  const [roleId, setRoleId] = useState("");
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [progress, setProgress] = useState<{ operation: Operation; done: number; total: number } | null>(null);
  const [report, setReport] = useState<{ operation: Operation; outcomes: Outcome[] } | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirmingDelete) confirmRef.current?.focus();
  }, [confirmingDelete]);

  const isRunning = progress !== null;
  const count = selected.length;
  const role = roles.find((r) => r.id === roleId);

  async function run(operation: Operation) {
    const targets = [...selected];
    setConfirmingDelete(false);
    setReport(null);
    setProgress({ operation, done: 0, total: targets.length });
    const outcomes: Outcome[] = [];
    const report = () => setProgress({ operation, done: outcomes.length, total: targets.length });
    if (operation.kind === "delete") {
      for (const target of targets) {
        const form = new FormData();
        form.set("userId", target.id);
        form.set("expectedVersion", String(target.version));
        outcomes.push({ target, result: await reaching(() => deleteUserAction(null, form)) });
        report();
      }
    } else {
      // A role change goes in chunks: one transaction and one produce request per batch on the
      // server (changeRoleOfUsers), each user's own outcome back, progress after every chunk.
      for (let i = 0; i < targets.length; i += BULK_CHUNK) {
        const chunk = targets.slice(i, i + BULK_CHUNK);
        const form = new FormData();
        form.set("roleId", operation.roleId);
        form.set("change", operation.kind);
        for (const target of chunk) form.append("userIds", target.id);
        const answer = await reaching(() => changeRoleOfUsersAction(null, form));
        for (const target of chunk) outcomes.push({ target, result: outcomeOf(answer, target) });
        report();
      }
    }
    // Exactly the queried keys these commands changed: each changed user's (the lists are server-rendered).
    const keys: QueryKey[] = [];
    for (const o of outcomes) if (o.result.ok && o.result.changed) keys.push(userKeys.detail(o.target.id));
    await Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    setProgress(null);
    setReport({ operation, outcomes });
    onDone(outcomes.filter((o) => !o.result.ok).map((o) => o.target.id));
  }

  return (
    <section aria-label="Bulk actions" className="space-y-3">
      <div className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 bg-white px-4 py-3 shadow-xs">
        <p className="min-w-32 self-center text-sm text-zinc-700" aria-live="polite">
          {count === 0 ? "Select users for bulk changes." : <strong className="font-medium">{count} selected</strong>}
        </p>
        <div className="min-w-44 space-y-1.5">
          <label htmlFor={roleSelectId} className="block text-xs font-medium text-zinc-700">
            Role for selected users
          </label>
          <select
            id={roleSelectId}
            value={roleId}
            onChange={(e) => setRoleId(e.target.value)}
            disabled={isRunning}
            className={`${inputClass} h-9`}
          >
            <option value="">Choose a role…</option>
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          disabled={isRunning || count === 0 || !role}
          onClick={() => role && void run({ kind: "assign", roleId: role.id, roleName: role.name })}
          className={buttonClass("secondary")}
        >
          Assign role
        </button>
        <button
          type="button"
          disabled={isRunning || count === 0 || !role}
          onClick={() => role && void run({ kind: "unassign", roleId: role.id, roleName: role.name })}
          className={buttonClass("secondary")}
        >
          Unassign role
        </button>
        <div className="ml-auto">
          {!confirmingDelete ? (
            <button
              type="button"
              disabled={isRunning || count === 0}
              onClick={() => setConfirmingDelete(true)}
              className={buttonClass("dangerOutline")}
            >
              Delete users
            </button>
          ) : (
            <div
              role="group"
              aria-label="Confirm: Delete users"
              className="flex flex-wrap items-center gap-2 rounded-md bg-red-50 px-3 py-2 ring-1 ring-red-200"
            >
              <span className="text-sm text-red-900">
                Delete {count} {count === 1 ? "user" : "users"}? Their history is kept.
              </span>
              <button
                ref={confirmRef}
                type="button"
                onClick={() => void run({ kind: "delete" })}
                className={buttonClass("danger", "sm")}
              >
                Yes, delete {count} {count === 1 ? "user" : "users"}
              </button>
              <button type="button" onClick={() => setConfirmingDelete(false)} className={buttonClass("secondary", "sm")}>
                Cancel
              </button>
            </div>
          )}
        </div>
      </div>

      {progress && (
        <div role="status" className="rounded-md bg-sky-50 px-4 py-3 text-sm text-sky-900 ring-1 ring-sky-200">
          <p className="flex items-center gap-2">
            <Spinner />
            {describe(progress.operation, "running")}: {progress.done} of {progress.total}…
          </p>
          <progress
            value={progress.done}
            max={progress.total}
            aria-label="Bulk progress"
            className="mt-2 h-1.5 w-full overflow-hidden rounded-full accent-sky-600"
          />
        </div>
      )}

      {report && <BulkReport operation={report.operation} outcomes={report.outcomes} onDismiss={() => setReport(null)} />}
    </section>
  );
}

function describe(operation: Operation, tense: "running" | "done") {
  const verb = verbs[operation.kind][tense];
  return operation.kind === "delete" ? `${verb} users` : `${verb} role ${operation.roleName}`;
}

function BulkReport({ operation, outcomes, onDismiss }: { operation: Operation; outcomes: Outcome[]; onDismiss: () => void }) {
  const failed = outcomes.filter((o): o is Outcome & { result: { ok: false } } => !o.result.ok);
  const succeeded = outcomes.filter((o) => o.result.ok);
  const unchanged = succeeded.filter((o) => o.result.ok && !o.result.changed);
  const pending = succeeded.some((o) => o.result.ok && !o.result.projected);
  const tone = failed.length === 0 ? "bg-emerald-50 text-emerald-900 ring-emerald-200" : "bg-amber-50 text-amber-900 ring-amber-200";
  const noun = operation.kind === "delete" ? "deleted" : operation.kind === "assign" ? "already had it" : "did not have it";
  return (
    <div role="status" aria-label="Bulk result" className={`rounded-md px-4 py-3 text-sm ring-1 ${tone}`}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <p className="font-medium">
          {describe(operation, "done")}: {succeeded.length} of {outcomes.length} succeeded
          {failed.length > 0 && `, ${failed.length} failed`}.
          {unchanged.length > 0 && ` ${unchanged.length} unchanged (${noun}).`}
          {pending && " The list may take a moment to show every change."}
        </p>
        <button type="button" onClick={onDismiss} className="text-xs font-medium underline underline-offset-2">
          Dismiss
        </button>
      </div>
      {failed.length > 0 && (
        <div className="mt-2">
          <h3 className="text-xs font-semibold tracking-wide uppercase">Failed</h3>
          <ul aria-label="Failed users" className="mt-1 list-disc space-y-0.5 pl-5">
            {failed.map((o) => (
              <li key={o.target.id}>
                <span className="font-medium">{o.target.email}</span>: {reasonOf(o.result)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {succeeded.length > 0 && (
        <details className="mt-2" open={failed.length > 0}>
          <summary className="cursor-pointer text-xs font-semibold tracking-wide uppercase">
            Succeeded ({succeeded.length})
          </summary>
          <ul aria-label="Succeeded users" className="mt-1 list-disc space-y-0.5 pl-5">
            {succeeded.map((o) => (
              <li key={o.target.id}>{o.target.email}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function reasonOf(result: { code: string; message: string }): string {
  switch (result.code) {
    case "not_found":
      return "already deleted or not found.";
    case "conflict":
      return "changed by someone else since this page loaded (version conflict). Reload and try again.";
    default:
      return result.message;
  }
}
