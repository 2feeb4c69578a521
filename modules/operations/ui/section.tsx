/** A titled card of the operations pages. */
import type { ReactNode } from "react";

export function Section({ id, title, aside, children }: { id: string; title: ReactNode; aside?: ReactNode; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="rounded-lg border border-zinc-200 bg-white shadow-xs">
      <div className="flex flex-wrap items-baseline justify-between gap-2 border-b border-zinc-100 px-5 py-3">
        <h2 id={id} className="text-sm font-semibold text-zinc-900">
          {title}
        </h2>
        {aside && <p className="text-xs text-zinc-500">{aside}</p>}
      </div>
      <div className="px-5 py-4">{children}</div>
    </section>
  );
}
