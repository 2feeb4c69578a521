/**
 * How a rebuild's progress reads, in the terminal and on the health page
 * (pure, shared by both; no server-only imports).
 */

export interface ProgressFigures {
  phase: string;
  done: bigint;
  total: bigint;
  eventsPerSecond: number;
  secondsLeft: number | null;
}

/** done / total in [0, 1]; an empty log is complete. */
export function progressFraction(done: bigint, total: bigint): number {
  if (total <= 0n) return 1;
  if (done >= total) return 1;
  if (done <= 0n) return 0;
  return Number((done * 10_000n) / total) / 10_000;
}

/** "45 s", "3 min 05 s", "1 h 02 min"; "—" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

const count = (n: bigint | number) => n.toLocaleString("en-US");

/** A text bar for a terminal: "[██████······]". */
export function textBar(fraction: number, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"█".repeat(filled)}${"·".repeat(width - filled)}]`;
}

/** "catching-up [████····] 52% 120,000 / 230,000 events · 8,200 events/s · 13 s left". */
export function progressLine(p: ProgressFigures, width = 30): string {
  const fraction = progressFraction(p.done, p.total);
  return (
    `${p.phase.padEnd(11)} ${textBar(fraction, width)} ${String(Math.floor(fraction * 100)).padStart(3)}% ` +
    `${count(p.done)} / ${count(p.total)} events · ${count(Math.round(p.eventsPerSecond))} events/s · ` +
    `${formatDuration(p.secondsLeft)} left`
  );
}
