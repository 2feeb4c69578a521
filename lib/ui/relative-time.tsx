"use client";
import { useEffect, useState } from "react";
import { formatDateTime } from "./format";

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "5 minutes ago", "just now", "in 2 hours" (clock skew). */
export function formatRelative(date: Date, now: number): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  for (const [unit, size] of steps) {
    if (abs >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60), "minute");
}

/**
 * A time as "5 minutes ago" followed by the absolute UTC time, kept current
 * every 30 s. The server's and the browser's "now" differ by the time the page
 * took to arrive, hence suppressHydrationWarning on the relative part only.
 */
export function RelativeTime({ iso, showAbsolute = true }: { iso: string; showAbsolute?: boolean }) {
  const [now, setNow] = useState<number>(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  const date = new Date(iso);
  const absolute = formatDateTime(date);
  return (
    <time dateTime={iso} title={absolute}>
      <span suppressHydrationWarning>{formatRelative(date, now)}</span>
      {showAbsolute && <span className="text-zinc-400"> · {absolute}</span>}
    </time>
  );
}
