/**
 * A role's member count over a period: a server-rendered SVG step line (the
 * count holds until the next point), with the count at the start, the end and
 * the peak as its text alternative.
 */
import { niceMax } from "@/lib/ui/chart";
import { formatDateTime } from "@/lib/ui/format";
import type { CountPoint } from "@/modules/users/read/role-membership";

const WIDTH = 720;
const HEIGHT = 160;
const LEFT = 40;
const BOTTOM = 20;
const TOP = 8;

export function MemberCountChart({ series, title = "Member count" }: { series: CountPoint[]; title?: string }) {
  if (series.length === 0) return null;
  const counts = series.map((p) => p.count);
  const peak = Math.max(0, ...counts);
  const max = niceMax(peak);
  const plotW = WIDTH - LEFT;
  const plotH = HEIGHT - BOTTOM - TOP;
  const x = (i: number) => LEFT + (series.length === 1 ? plotW : (i / (series.length - 1)) * plotW);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const path = series.map((p, i) => (i === 0 ? `M ${x(0)} ${y(p.count)}` : `H ${x(i)} V ${y(p.count)}`)).join(" ");
  const first = series[0]!;
  const last = series.at(-1)!;
  const label =
    `${title}: ${first.count} at ${formatDateTime(new Date(first.at))}, ${last.count} at ${formatDateTime(new Date(last.at))}, ` +
    `at most ${peak} in between.`;
  return (
    <figure className="mb-4">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label} className="h-auto w-full">
        {[0, max / 2, max].map((v) => (
          <g key={v}>
            <line x1={LEFT} x2={WIDTH} y1={y(v)} y2={y(v)} className="stroke-zinc-200" strokeWidth={1} />
            <text x={LEFT - 6} y={y(v) + 4} textAnchor="end" className="fill-zinc-500 text-[11px]">
              {Number.isInteger(v) ? v : ""}
            </text>
          </g>
        ))}
        <path d={path} className="fill-none stroke-violet-600" strokeWidth={2} />
        <text x={LEFT} y={HEIGHT - 4} className="fill-zinc-500 text-[11px]">
          {formatDateTime(new Date(first.at))}
        </text>
        <text x={WIDTH} y={HEIGHT - 4} textAnchor="end" className="fill-zinc-500 text-[11px]">
          {formatDateTime(new Date(last.at))}
        </text>
      </svg>
      <figcaption className="mt-1 text-xs text-zinc-500">{label}</figcaption>
    </figure>
  );
}
