import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import Link from "next/link";
import { getDb } from "@/lib/db";
import { DataTable } from "@/lib/ui/data-table";
import { PageHeader } from "@/lib/ui/page-header";
import { buttonClass } from "@/lib/ui/styles";
import {
  countDeadLetters,
  deadLettersHref,
  findDeadLetter,
  listDeadLetters,
  parseDeadLetterFilters,
  type DeadLetterFilters,
} from "@/modules/operations/read/dead-letters";
import { DeadLetterRow, HandledNotice } from "@/modules/operations/ui/dead-letter-row";

export const metadata: Metadata = { title: "Dead letters" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const tabs: { status: DeadLetterFilters["status"]; label: string }[] = [
  { status: "open", label: "Open" },
  { status: "retried", label: "Retried" },
  { status: "discarded", label: "Discarded" },
  { status: "all", label: "All" },
];

export default async function DeadLettersPage({ searchParams }: { searchParams: SearchParams }) {
  await requirePage("ops:manage"); // per request (reads the session), never prerendered
  const filters = parseDeadLetterFilters(await searchParams);
  const db = getDb();
  const [{ letters, nextBefore }, counts, handled] = await Promise.all([
    listDeadLetters(db, filters),
    countDeadLetters(db),
    filters.handled ? findDeadLetter(db, filters.handled) : null,
  ]);
  return (
    <>
      <PageHeader
        title="Dead letters"
        description={
          <>
            Messages the projector could not read or apply: skipped so their partition moves on, kept here and in{" "}
            <code>&lt;topic&gt;.dlq</code>. Retry re-publishes one to its topic as it was (after a fix is deployed);
            Discard marks it handled. Newest first.
          </>
        }
      />
      {handled && <HandledNotice letter={handled} />}
      <nav aria-label="Status" className="mb-4 flex flex-wrap gap-1">
        {tabs.map((t) => {
          const isCurrent = filters.status === t.status;
          return (
            <Link
              key={t.status}
              href={deadLettersHref(t.status)}
              aria-current={isCurrent ? "page" : undefined}
              className={
                "rounded-md px-3 py-1.5 text-sm font-medium " +
                (isCurrent ? "bg-zinc-900 text-white" : "text-zinc-600 ring-1 ring-zinc-200 ring-inset hover:bg-zinc-100")
              }
            >
              {t.label} <span className={isCurrent ? "text-zinc-300" : "text-zinc-400"}>{counts[t.status]}</span>
            </Link>
          );
        })}
      </nav>

      <DataTable
        caption="Dead letters"
        head={
          <>
            <th scope="col" className="px-4 py-3 whitespace-nowrap">Dead-lettered</th>
            <th scope="col" className="px-4 py-3">Original message</th>
            <th scope="col" className="px-4 py-3">Reason</th>
            <th scope="col" className="px-4 py-3">Status</th>
            <th scope="col" className="px-4 py-3">Actions</th>
          </>
        }
      >
        <tbody className="divide-y divide-zinc-100">
          {letters.map((letter) => (
            <DeadLetterRow key={letter.id} letter={letter} listStatus={filters.status} />
          ))}
          {letters.length === 0 && (
            <tr>
              <td colSpan={5} className="px-4 py-12 text-center text-zinc-500">
                {filters.status === "open" ? "No open dead letters: every message was projected." : "None."}
              </td>
            </tr>
          )}
        </tbody>
      </DataTable>
      {(filters.before || nextBefore) && (
        <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
          {filters.before ? (
            <Link href={deadLettersHref(filters.status)} className={buttonClass("secondary")}>
              ← Newest
            </Link>
          ) : (
            <span />
          )}
          {nextBefore && (
            <Link href={deadLettersHref(filters.status, nextBefore)} className={buttonClass("secondary")}>
              Older →
            </Link>
          )}
        </nav>
      )}
    </>
  );
}
