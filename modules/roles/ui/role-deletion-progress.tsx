"use client";
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import type { RoleDeletionProgress as Progress } from "@/modules/users/read/role-deletion-progress";
import { roleKeys } from "./role-query-keys";

const count = (n: number) => n.toLocaleString("en-US");

async function fetchProgress(roleId: string, signal: AbortSignal): Promise<Progress | null> {
  const response = await fetch(`/api/roles/${roleId}/deletion`, { signal, cache: "no-store" });
  if (!response.ok) throw new Error(`progress: HTTP ${response.status}`);
  return (await response.json()) as Progress | null;
}

/**
 * A role's deletion as it goes: a progress bar and "N of M members" while its members lose the
 * role (polled every second, like the rebuild card), why it stopped if it did, and a refresh of
 * the page once it is done. `watching`: poll even before a deletion is known (the delete form is
 * submitting); otherwise only while one runs.
 */
export function RoleDeletionProgress({ roleId, initial, watching = false }: { roleId: string; initial: Progress | null; watching?: boolean }) {
  const router = useRouter();
  const { data } = useQuery({
    queryKey: roleKeys.deletion(roleId),
    queryFn: ({ signal }) => fetchProgress(roleId, signal),
    initialData: initial,
    refetchInterval: (query) => {
      const p = query.state.data;
      return watching || (p && !p.finishedAt && !p.error && !p.isStale) ? 1_000 : false;
    },
  });
  const finished = Boolean(data?.finishedAt);
  const refreshed = useRef(finished);
  useEffect(() => {
    // Once RoleDeleted is in, the server-rendered page (members, history, badge) catches up.
    if (finished && !refreshed.current) {
      refreshed.current = true;
      router.refresh();
    }
  }, [finished, router]);

  if (!data || data.finishedAt) return null;
  const fraction = data.total > 0 ? Math.min(1, data.done / data.total) : 0;
  const percent = Math.floor(fraction * 100);
  const stopped = data.error ?? (data.isStale ? "its run stopped (no progress for 30 s)" : null);
  return (
    <div className="w-full space-y-2">
      <div
        role="progressbar"
        aria-label="Role deletion progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={`${count(data.done)} of ${count(data.total)} members`}
        className="h-3 w-full overflow-hidden rounded-full bg-zinc-100 ring-1 ring-zinc-200 ring-inset"
      >
        <div className="h-full rounded-full bg-red-500 transition-[width] duration-700" style={{ width: `${fraction * 100}%` }} />
      </div>
      <p role="status" className="text-sm text-zinc-700 tabular-nums">
        {stopped ? "Deletion stopped" : "Deleting"}: {count(data.done)} of {count(data.total)} members have lost the role ({percent}%).
        {!stopped && " Nobody can be given the role meanwhile."}
      </p>
      {stopped && (
        <p role="alert" className="text-sm text-red-700">
          The deletion stopped: {stopped}. The role takes no new member until it is deleted; delete it again to finish.
        </p>
      )}
    </div>
  );
}
