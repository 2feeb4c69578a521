/** Small formatters for the operations pages (server-rendered, so no hydration concerns). */

/** "just now", "8 s", "4 min", "3 h", "2 d": how long ago `at` was, seen from `now`. */
export function formatAge(at: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (seconds < 1) return "just now";
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** "just now" or "8 s ago". */
export const formatAgo = (at: Date, now: Date) => {
  const age = formatAge(at, now);
  return age === "just now" ? age : `${age} ago`;
};

const grouping = new Intl.NumberFormat("en-US");
/** 12,345 (bigint or number). */
export const formatCount = (n: bigint | number) => grouping.format(n);

/** "09:31 UTC" */
export const formatMinute = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;

/** "30 s", "2 min": a duration in milliseconds. */
export const formatMs = (ms: number) => formatAge(new Date(0), new Date(ms));
