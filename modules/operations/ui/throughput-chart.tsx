/**
 * Events per minute over the last hour, stacked by event type: a server-rendered
 * SVG (no chart library), with a legend that doubles as the text alternative.
 */
import { niceMax } from "@/lib/ui/chart";
import type { Throughput } from "../read/health";
import { formatCount, formatMinute } from "./format";

/** One colour per event type, in the spirit of the event badges (created green, deleted red…). */
const fills: Record<string, string> = {
  UserCreated: "fill-emerald-500",
  RoleCreated: "fill-emerald-700",
  UserUpdated: "fill-sky-500",
  RoleUpdated: "fill-sky-700",
  UserDeleted: "fill-red-500",
  RoleDeleted: "fill-red-700",
  UserLoggedIn: "fill-zinc-400",
  RoleAssignedToUser: "fill-violet-500",
  RoleUnassignedFromUser: "fill-amber-500",
};
const swatches: Record<string, string> = {
  UserCreated: "bg-emerald-500",
  RoleCreated: "bg-emerald-700",
  UserUpdated: "bg-sky-500",
  RoleUpdated: "bg-sky-700",
  UserDeleted: "bg-red-500",
  RoleDeleted: "bg-red-700",
  UserLoggedIn: "bg-zinc-400",
  RoleAssignedToUser: "bg-violet-500",
  RoleUnassignedFromUser: "bg-amber-500",
};

const WIDTH = 720;
const HEIGHT = 160;
const LEFT = 40;
const BOTTOM = 20;
const TOP = 8;


export function ThroughputChart({ data }: { data: Throughput }) {
  const perMinute = data.minutes.map((_, i) => data.series.reduce((n, s) => n + (s.counts[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...perMinute));
  const plotW = WIDTH - LEFT;
  const plotH = HEIGHT - BOTTOM - TOP;
  const slot = plotW / data.minutes.length;
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const peak = Math.max(0, ...perMinute);
  const label =
    data.total === 0
      ? "No events in the last hour."
      : `${formatCount(data.total)} events in the last hour, at most ${formatCount(peak)} in one minute.`;

  return (
    <figure>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Events per minute, last hour: ${label}`} className="h-auto w-full">
        {[0, max / 2, max].map((v) => (
          <g key={v}>
            <line x1={LEFT} x2={WIDTH} y1={y(v)} y2={y(v)} className="stroke-zinc-200" strokeWidth={1} />
            <text x={LEFT - 6} y={y(v) + 3} textAnchor="end" className="fill-zinc-500 text-[10px]">
              {formatCount(v)}
            </text>
          </g>
        ))}
        {data.minutes.map((minute, i) => {
          let base = 0;
          const x = LEFT + i * slot + 1;
          const breakdown = data.series
            .filter((s) => (s.counts[i] ?? 0) > 0)
            .map((s) => `${s.type} ${s.counts[i]}`)
            .join(", ");
          return (
            <g key={minute.toISOString()}>
              <title>{`${formatMinute(minute)}: ${perMinute[i]} events${breakdown ? ` (${breakdown})` : ""}`}</title>
              {/* Full-height, invisible: the whole minute column shows its tooltip. */}
              <rect x={x} y={TOP} width={slot - 2} height={plotH} className="fill-transparent" />
              {data.series.map((s) => {
                const n = s.counts[i] ?? 0;
                if (n === 0) return null;
                const top = y(base + n);
                const height = y(base) - top;
                base += n;
                return <rect key={s.type} x={x} y={top} width={slot - 2} height={Math.max(height, 1)} className={fills[s.type] ?? "fill-zinc-300"} />;
              })}
            </g>
          );
        })}
        {[0, 15, 30, 45, 59].map((i) => {
          const minute = data.minutes[i];
          if (!minute) return null;
          return (
            <text
              key={i}
              x={i === 59 ? WIDTH : LEFT + i * slot + slot / 2}
              y={HEIGHT - 4}
              textAnchor={i === 59 ? "end" : "middle"}
              className="fill-zinc-500 text-[10px]"
            >
              {i === 59 ? "now" : formatMinute(minute).replace(" UTC", "")}
            </text>
          );
        })}
      </svg>
      <figcaption className="mt-3 text-sm text-zinc-600">
        <span>{label}</span>
        {data.series.length > 0 && (
          <ul aria-label="Events by type, last hour" className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs">
            {data.series.map((s) => (
              <li key={s.type} className="inline-flex items-center gap-1.5">
                <span aria-hidden="true" className={`size-2.5 rounded-sm ${swatches[s.type] ?? "bg-zinc-300"}`} />
                <span className="text-zinc-700">{s.type}</span>
                <span className="text-zinc-500 tabular-nums">{formatCount(s.total)}</span>
              </li>
            ))}
          </ul>
        )}
      </figcaption>
    </figure>
  );
}
