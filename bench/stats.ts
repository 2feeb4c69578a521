/** Percentiles and the median / min / max summary of repeated runs. */

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: readonly number[]): Summary {
  const ok = runs.filter((v) => Number.isFinite(v));
  if (ok.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: [...runs] };
  const sorted = [...ok].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: [...runs] };
}

export const hr = () => Number(process.hrtime.bigint()) / 1e6; // ms, monotonic

export function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "—";
  if (unit === "ms") return value < 10 ? `${value.toFixed(2)} ms` : value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
  if (unit === "s") return `${value.toFixed(1)} s`;
  if (unit === "events/s" || unit === "rows/s" || unit === "msgs/s") return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
  return `${value.toFixed(2)} ${unit}`;
}
