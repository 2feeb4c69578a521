import type { ReactNode } from "react";

/**
 * The frame of the console's list tables: bordered, scrolling sideways on a
 * narrow window, a caption that names the table for screen readers (and for
 * tests, which find tables by it), and one header row. The body is the caller's.
 */
export function DataTable({ caption, head, children }: { caption: string; head: ReactNode; children: ReactNode }) {
  return (
    <div className="relative overflow-x-auto rounded-lg border border-zinc-200 bg-white shadow-xs">
      <table className="min-w-full divide-y divide-zinc-200 text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-zinc-50 text-left text-xs font-semibold tracking-wide text-zinc-600 uppercase">
          <tr>{head}</tr>
        </thead>
        {children}
      </table>
    </div>
  );
}
