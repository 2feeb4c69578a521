/** The webhook pages' tables (server components). */
import Link from "next/link";
import type { ReactNode } from "react";
import { Badge } from "@/lib/ui/badge";
import { DataTable } from "@/lib/ui/data-table";
import { formatDateTime } from "@/lib/ui/format";
import { RelativeTime } from "@/lib/ui/relative-time";
import type { recentAttempts, webhookChanges, webhookReplays, WebhookSummary } from "../read/webhooks";
import { webhookHref } from "../read/webhooks";

const th = (label: ReactNode, className = "") => (
  <th scope="col" className={`px-4 py-3 ${className}`}>
    {label}
  </th>
);
const td = "px-4 py-3 text-zinc-600";

function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="px-4 py-8 text-center text-zinc-500">
        {children}
      </td>
    </tr>
  );
}

export function StatusBadge({ webhook }: { webhook: Pick<WebhookSummary, "status" | "failingSince" | "autoDisabled"> }) {
  if (webhook.status === "disabled") return <Badge tone="red">{webhook.autoDisabled ? "disabled automatically" : "disabled"}</Badge>;
  return webhook.failingSince ? <Badge tone="amber">failing</Badge> : <Badge tone="green">active</Badge>;
}

export const eventTypesLabel = (types: string[]) => (types.length === 0 ? "All event types" : types.join(", "));

export function WebhookList({ webhooks }: { webhooks: WebhookSummary[] }) {
  return (
    <DataTable caption="Webhooks" head={<>{th("URL")}{th("Event types", "hidden md:table-cell")}{th("Status")}{th("Queued")}{th("Last attempt", "hidden sm:table-cell")}</>}>
      <tbody className="divide-y divide-zinc-100">
        {webhooks.map((w) => (
          <tr key={w.id} className="align-top">
            <td className="px-4 py-3 font-medium break-all text-zinc-900">
              <Link href={webhookHref(w.id)} className="hover:underline">
                {w.url}
              </Link>
              {w.description && <span className="block text-xs font-normal text-zinc-500">{w.description}</span>}
            </td>
            <td className={`${td} hidden md:table-cell`}>{eventTypesLabel(w.eventTypes)}</td>
            <td className={td}>
              <StatusBadge webhook={w} />
            </td>
            <td className={`${td} tabular-nums`}>{w.queued.toLocaleString("en-US")}</td>
            <td className={`${td} hidden sm:table-cell`}>
              {w.lastAttemptAt ? (
                <>
                  <RelativeTime iso={w.lastAttemptAt.toISOString()} showAbsolute={false} /> {w.lastAttemptOk ? "· ok" : "· failed"}
                </>
              ) : (
                "none yet"
              )}
            </td>
          </tr>
        ))}
        {webhooks.length === 0 && <EmptyRow columns={5}>No webhooks yet.</EmptyRow>}
      </tbody>
    </DataTable>
  );
}

type Attempt = Awaited<ReturnType<typeof recentAttempts>>[number];

export function DeliveryLog({ attempts }: { attempts: Attempt[] }) {
  return (
    <DataTable
      caption="Delivery log"
      head={<>{th("Time")}{th("Event")}{th("Attempt")}{th("Status")}{th("Latency")}{th("Error or response", "hidden md:table-cell")}</>}
    >
      <tbody className="divide-y divide-zinc-100">
        {attempts.map((a) => (
          <tr key={String(a.id)} className="align-top">
            <td className={td}>
              <time dateTime={a.at.toISOString()} title={formatDateTime(a.at)}>
                {a.at.toISOString().slice(11, 19)}
              </time>
            </td>
            <td className={td}>
              <span className="font-medium text-zinc-900">{a.eventType}</span>
              <span className="block font-mono text-xs text-zinc-500">{a.eventId}</span>
              {a.replayId !== null && <span className="block text-xs text-zinc-500">replay #{String(a.replayId)}</span>}
            </td>
            <td className={`${td} tabular-nums`}>{a.attempt}</td>
            <td className={td}>
              <Badge tone={a.ok ? "green" : "red"}>{a.statusCode ?? "no answer"}</Badge>
            </td>
            <td className={`${td} tabular-nums`}>{a.latencyMs} ms</td>
            <td className={`${td} hidden max-w-md break-words md:table-cell`}>
              {a.error && <span className="block text-red-700">{a.error}</span>}
              {a.responseExcerpt && <code className="block text-xs text-zinc-500">{a.responseExcerpt}</code>}
            </td>
          </tr>
        ))}
        {attempts.length === 0 && <EmptyRow columns={6}>Nothing sent yet.</EmptyRow>}
      </tbody>
    </DataTable>
  );
}

type Change = Awaited<ReturnType<typeof webhookChanges>>[number];

export function ChangeHistory({ changes }: { changes: Change[] }) {
  return (
    <DataTable caption="History" head={<>{th("When")}{th("Change")}{th("By")}{th("Detail", "hidden md:table-cell")}</>}>
      <tbody className="divide-y divide-zinc-100">
        {changes.map((c) => (
          <tr key={String(c.id)} className="align-top">
            <td className={td}>
              <time dateTime={c.at.toISOString()}>{formatDateTime(c.at)}</time>
            </td>
            <td className="px-4 py-3 font-medium text-zinc-900">{c.action}</td>
            <td className={td}>{c.actor}</td>
            <td className={`${td} hidden max-w-md break-words md:table-cell`}>{c.detail}</td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

type Replay = Awaited<ReturnType<typeof webhookReplays>>[number];

export function ReplayList({ replays }: { replays: Replay[] }) {
  if (replays.length === 0) return null;
  return (
    <ul className="mt-4 space-y-1 text-sm text-zinc-700">
      {replays.map((r) => (
        <li key={String(r.id)}>
          Replay #{String(r.id)} from {r.fromTime ? formatDateTime(r.fromTime) : "the beginning of the log"}:{" "}
          <Badge tone={r.status === "failed" ? "red" : r.status === "done" ? "green" : "amber"}>{r.status}</Badge>{" "}
          {r.queued.toLocaleString("en-US")} events queued · asked by {r.requestedBy}
          {r.error && <span className="text-red-700"> · {r.error}</span>}
        </li>
      ))}
    </ul>
  );
}

/** For the health page: every subscription's lag (events queued, the oldest's age) and failure. */
export function WebhookLagTable({ webhooks }: { webhooks: WebhookSummary[] }) {
  return (
    <DataTable caption="Webhook lag" head={<>{th("Webhook")}{th("Status")}{th("Lag (queued)")}{th("Oldest queued")}{th("Failing since", "hidden md:table-cell")}</>}>
      <tbody className="divide-y divide-zinc-100">
        {webhooks.map((w) => (
          <tr key={w.id} className="align-top">
            <td className="px-4 py-3 break-all text-zinc-900">
              <Link href={webhookHref(w.id)} className="hover:underline">
                {w.url}
              </Link>
            </td>
            <td className={td}>
              <StatusBadge webhook={w} />
            </td>
            <td className={`${td} tabular-nums`}>{w.queued.toLocaleString("en-US")}</td>
            <td className={td}>{w.oldestQueuedAt ? <RelativeTime iso={w.oldestQueuedAt.toISOString()} showAbsolute={false} /> : "—"}</td>
            <td className={`${td} hidden md:table-cell`}>
              {w.failingSince ? (
                <>
                  <RelativeTime iso={w.failingSince.toISOString()} showAbsolute={false} />
                  {w.lastError && <span className="block text-xs text-red-700">{w.lastError}</span>}
                </>
              ) : (
                "—"
              )}
            </td>
          </tr>
        ))}
        {webhooks.length === 0 && <EmptyRow columns={5}>No webhooks.</EmptyRow>}
      </tbody>
    </DataTable>
  );
}
