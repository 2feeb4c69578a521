/**
 * The health page's rebuild card (server component): the rebuild running now
 * with its progress bar, or the button to start one, and how the last ones
 * ended (with the per-table comparison).
 */
import { formatDuration, progressFraction } from "@/lib/projection/rebuild/progress";
import type { TableComparison } from "@/lib/projection/rebuild/rebuild";
import type { RebuildStatus, RebuildView } from "@/lib/projection/rebuild/rebuild-jobs";
import { Badge, type BadgeTone } from "@/lib/ui/badge";
import { formatDateTime } from "@/lib/ui/format";
import type { PartitionError } from "../read/stall";
import { formatAgo, formatCount, formatMs } from "./format";
import { CancelRebuild, StartRebuild } from "./rebuild-controls";
import { Section } from "./section";

const PHASES: Record<string, string> = {
  "catching-up": "replaying the log",
  indexing: "building indexes",
  verifying: "comparing with the live tables at the same offsets",
  switching: "switching",
};

const STATUS: Record<RebuildStatus, { tone: BadgeTone; label: string }> = {
  requested: { tone: "blue", label: "waiting for a projector worker" },
  running: { tone: "blue", label: "running" },
  switched: { tone: "green", label: "switched" },
  refused: { tone: "amber", label: "refused" },
  failed: { tone: "red", label: "failed" },
  cancelled: { tone: "neutral", label: "cancelled" },
};

/**
 * `replayErrors`: consumer_partition_errors of the active rebuild's replay group
 * (`<group>.rebuild.<id>`); one failing for longer than `stallAfterMs` is stalled (the replay
 * deletes the row once the partition moves again).
 */
export function RebuildPanel({
  rebuilds,
  now,
  replayErrors = [],
  stallAfterMs = 30_000,
}: {
  rebuilds: RebuildView[];
  now: Date;
  replayErrors?: PartitionError[];
  stallAfterMs?: number;
}) {
  const active = rebuilds.find((r) => r.status === "requested" || r.status === "running");
  const finished = rebuilds.filter((r) => r !== active);
  return (
    <Section
      id="health-rebuild"
      title="Read-model rebuild"
      aside="Replays the log from offset 0 into fresh tables while the console keeps serving; switches only when they equal the live tables at the same offsets."
    >
      <div className="space-y-5">
        {active ? <ActiveRebuild rebuild={active} now={now} errors={replayErrors} stallAfterMs={stallAfterMs} /> : <StartRebuild />}
        {finished.length > 0 && (
          <div className="space-y-3">
            <h3 className="text-xs font-semibold tracking-wide text-zinc-600 uppercase">Recent rebuilds</h3>
            <ul className="divide-y divide-zinc-100 text-sm">
              {finished.map((r, i) => (
                <li key={r.id} className="py-2">
                  <p className="flex flex-wrap items-center gap-2">
                    <span className="font-medium text-zinc-900">#{r.id}</span>
                    <Badge tone={STATUS[r.status].tone}>{STATUS[r.status].label}</Badge>
                    <span className="text-zinc-500" title={r.finishedAt ? formatDateTime(r.finishedAt) : undefined}>
                      {r.finishedAt ? formatAgo(r.finishedAt, now) : "—"}
                      {r.startedAt && r.finishedAt && ` · took ${formatDuration((r.finishedAt.getTime() - r.startedAt.getTime()) / 1000)}`}
                      {` · asked for by ${r.requestedBy}`}
                    </span>
                  </p>
                  {r.message && <p className="mt-1 text-zinc-700">{r.message}</p>}
                  {i === 0 && r.comparison && <ComparisonTable rows={r.comparison} />}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Section>
  );
}

function ActiveRebuild({
  rebuild: r,
  now,
  errors,
  stallAfterMs,
}: {
  rebuild: RebuildView;
  now: Date;
  errors: PartitionError[];
  stallAfterMs: number;
}) {
  const fraction = progressFraction(r.done, r.total);
  const percent = Math.floor(fraction * 100);
  const left = r.eventsPerSecond > 0 ? Number(r.total - r.done) / r.eventsPerSecond : null;
  return (
    <div className="space-y-3">
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium text-zinc-900">Rebuild #{r.id}</span>
        <Badge tone={r.stale ? "red" : STATUS[r.status].tone}>{r.stale ? "no heartbeat" : STATUS[r.status].label}</Badge>
        {r.phase && r.status === "running" && <span className="text-zinc-600">{PHASES[r.phase] ?? r.phase}</span>}
        {r.cancelRequested && <Badge tone="amber">cancelling</Badge>}
      </p>
      {r.status === "running" && (
        <>
          <div
            role="progressbar"
            aria-label={`Rebuild #${r.id} progress`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            className="h-3 w-full overflow-hidden rounded-full bg-zinc-100 ring-1 ring-zinc-200 ring-inset"
          >
            <div className="h-full rounded-full bg-sky-500 transition-[width] duration-700" style={{ width: `${fraction * 100}%` }} />
          </div>
          <p className="text-sm text-zinc-700 tabular-nums">
            {percent}% · {formatCount(r.done)} of {formatCount(r.total)} events · {formatCount(Math.round(r.eventsPerSecond))} events/s ·{" "}
            {formatDuration(left)} left
          </p>
        </>
      )}
      <p className="text-xs text-zinc-500">
        Asked for by {r.requestedBy} {formatAgo(r.requestedAt, now)}
        {r.acceptDifferences && " · will switch even if the tables differ"}
        {r.runner && ` · run by ${r.runner}`}
        {r.heartbeatAt && ` · last heartbeat ${formatAgo(r.heartbeatAt, now)}`}
      </p>
      {r.stale && (
        <p role="alert" className="text-sm text-red-700">
          Its runner stopped sending heartbeats: it probably died. The live read model was not switched; asking for a new rebuild
          marks this one failed.
        </p>
      )}
      {errors.length > 0 && <ReplayErrors errors={errors} now={now} stallAfterMs={stallAfterMs} />}
      {r.status === "requested" && (
        <p className="text-sm text-zinc-600">
          A projector worker (<code>npm run projector</code>, or <code>npm start</code>) picks it up within a few seconds.
        </p>
      )}
      {!r.cancelRequested && <CancelRebuild id={r.id} />}
    </div>
  );
}

function ReplayErrors({ errors, now, stallAfterMs }: { errors: PartitionError[]; now: Date; stallAfterMs: number }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm">
        <caption className="mb-1 text-left text-xs font-semibold tracking-wide text-red-700 uppercase">Replay errors</caption>
        <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
          <tr>
            <th scope="col" className="px-3 py-1.5 font-semibold">Partition</th>
            <th scope="col" className="px-3 py-1.5 text-right font-semibold">Offset</th>
            <th scope="col" className="px-3 py-1.5 font-semibold">State</th>
            <th scope="col" className="px-3 py-1.5 font-semibold">Last error</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-red-100">
          {errors.map((e) => {
            const failingMs = now.getTime() - e.firstFailedAt.getTime();
            const stalled = failingMs >= stallAfterMs;
            return (
              <tr key={`${e.topic}/${e.partition}`} className={stalled ? "bg-red-50 text-red-900" : "text-amber-900"}>
                <th scope="row" className="px-3 py-1.5 text-left font-semibold whitespace-nowrap">
                  {e.topic} / partition {e.partition}
                </th>
                <td className="px-3 py-1.5 text-right tabular-nums">{e.offset === null ? "—" : formatCount(e.offset)}</td>
                <td className="px-3 py-1.5 whitespace-nowrap">
                  {stalled ? <Badge tone="red">stalled for {formatMs(failingMs)}</Badge> : <Badge tone="amber">retrying</Badge>}
                  <span className="ml-1 text-xs">
                    {formatCount(e.attempts)} attempt{e.attempts === 1 ? "" : "s"}, last {formatAgo(e.lastFailedAt, now)}
                  </span>
                </td>
                <td className="px-3 py-1.5 font-mono text-xs break-words">{e.error}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ComparisonTable({ rows }: { rows: TableComparison[] }) {
  return (
    <details className="mt-2">
      <summary className="cursor-pointer text-zinc-600 hover:text-zinc-900">Per-table comparison at the switch offsets</summary>
      <table className="mt-2 min-w-full text-sm">
        <caption className="sr-only">Live and rebuilt tables compared</caption>
        <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
          <tr>
            <th scope="col" className="px-3 py-1.5 font-semibold">Table</th>
            <th scope="col" className="px-3 py-1.5 text-right font-semibold">Live rows</th>
            <th scope="col" className="px-3 py-1.5 text-right font-semibold">Rebuilt rows</th>
            <th scope="col" className="px-3 py-1.5 font-semibold">Checksum</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100">
          {rows.map((c) => (
            <tr key={c.table}>
              <th scope="row" className="px-3 py-1.5 text-left font-mono text-xs font-normal text-zinc-900">{c.table}</th>
              <td className="px-3 py-1.5 text-right tabular-nums">{formatCount(c.live.rows)}</td>
              <td className="px-3 py-1.5 text-right tabular-nums">{formatCount(c.rebuilt.rows)}</td>
              <td className="px-3 py-1.5">{c.equal ? <Badge tone="green">equal</Badge> : <Badge tone="amber">differs</Badge>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
