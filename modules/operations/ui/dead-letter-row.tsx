/** One dead letter in the list (server component): where it came from, why, its payload and what was done. */
import { Badge, type BadgeTone } from "@/lib/ui/badge";
import { formatDateTime } from "@/lib/ui/format";
import type { DeadLetterStatus, DeadLetterView } from "../read/dead-letters";
import { DeadLetterActions } from "./dead-letter-actions";

const statusTones: Record<DeadLetterStatus, BadgeTone> = { open: "red", retried: "blue", discarded: "neutral" };

/** A readable payload: indented JSON when it parses, the raw text otherwise. */
function pretty(value: string | null): string {
  if (value === null) return "(no value: a tombstone)";
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

export const deadLetterLabel = (l: Pick<DeadLetterView, "topic" | "partition" | "offset">) =>
  `${l.topic} partition ${l.partition} offset ${l.offset}`;

/** What the last action did to `letter` (shown after its redirect: the row may have left the list). */
export function HandledNotice({ letter }: { letter: DeadLetterView }) {
  if (letter.status === "open") return null;
  return (
    <p role="status" className="mb-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 ring-1 ring-emerald-200">
      {letter.status === "retried" ? "Retried" : "Discarded"} {deadLetterLabel(letter)}
      {letter.retriedTo
        ? `: re-published to partition ${letter.retriedTo.partition} at offset ${letter.retriedTo.offset}; the projector reads it like any message.`
        : "."}
    </p>
  );
}

export function DeadLetterRow({ letter, listStatus }: { letter: DeadLetterView; listStatus: string }) {
  const headers = Object.entries(letter.headers);
  return (
    <tr className="align-top">
      <td className="px-4 py-3 whitespace-nowrap text-zinc-600">
        <time dateTime={letter.createdAt.toISOString()}>{formatDateTime(letter.createdAt)}</time>
      </td>
      <td className="px-4 py-3">
        <p className="font-medium whitespace-nowrap text-zinc-900">
          {letter.topic}
          <span className="font-normal text-zinc-500"> · partition </span>
          {letter.partition}
          <span className="font-normal text-zinc-500"> · offset </span>
          {letter.offset}
        </p>
        <p className="mt-0.5 text-xs text-zinc-500">
          key <span className="font-mono [overflow-wrap:anywhere] text-zinc-700">{letter.key ?? "(none)"}</span>
        </p>
      </td>
      <td className="max-w-lg min-w-72 px-4 py-3">
        {/* A schema failure lists every field: three lines, the rest on hover. */}
        <p title={letter.reason} className="line-clamp-3 [overflow-wrap:anywhere] text-zinc-800">
          {letter.reason}
        </p>
        <details className="mt-1.5 text-xs">
          <summary className="cursor-pointer text-zinc-600 hover:text-zinc-900">Payload{headers.length ? " and headers" : ""}</summary>
          <pre className="mt-1.5 max-h-72 overflow-auto rounded-md bg-zinc-50 p-2 font-mono text-[11px] whitespace-pre-wrap [overflow-wrap:anywhere] text-zinc-800 ring-1 ring-zinc-100">
            {pretty(letter.value)}
          </pre>
          {headers.length > 0 && (
            <dl className="mt-1.5 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
              {headers.map(([name, value]) => (
                <div key={name} className="contents">
                  <dt className="font-mono text-zinc-500">{name}</dt>
                  <dd className="font-mono [overflow-wrap:anywhere] text-zinc-800">{value}</dd>
                </div>
              ))}
            </dl>
          )}
        </details>
      </td>
      <td className="px-4 py-3">
        <Badge tone={statusTones[letter.status]}>{letter.status}</Badge>
        {letter.resolvedAt && (
          <p className="mt-1 text-xs whitespace-nowrap text-zinc-500">
            by <span className="text-zinc-700">{letter.resolvedBy ?? "unknown"}</span>
            <br />
            <time dateTime={letter.resolvedAt.toISOString()}>{formatDateTime(letter.resolvedAt)}</time>
            {letter.retriedTo && (
              <>
                <br />
                to partition {letter.retriedTo.partition}, offset {letter.retriedTo.offset}
              </>
            )}
          </p>
        )}
      </td>
      <td className="px-4 py-3">
        {letter.status === "open" ? <DeadLetterActions id={letter.id} label={deadLetterLabel(letter)} status={listStatus} /> : <span className="text-zinc-400">—</span>}
      </td>
    </tr>
  );
}
