/**
 * The timeline as CSV (RFC 4180): a header row, then one row per event; a
 * field with a comma, quote or line break is quoted, quotes doubled.
 */
import { actorLabel } from "@/modules/users/ui/actor-label";
import type { TimelineEntry } from "./user-timeline";

export const CSV_HEADER = [
  "sequence",
  "occurredAt",
  "type",
  "actor",
  "correlationId",
  "causationId",
  "eventId",
  "changes",
  "payload",
] as const;

export function timelineCsvCells(e: TimelineEntry): string[] {
  const changes = Object.fromEntries(e.changes.map((c) => [c.field, { before: c.before, after: c.after }]));
  return [
    String(e.sequence),
    e.occurredAt,
    e.type,
    actorLabel(e.actor),
    e.correlationId,
    e.causationId ?? "",
    e.eventId,
    e.changes.length ? JSON.stringify(changes) : "",
    JSON.stringify(e.payload ?? {}),
  ];
}

export function csvRow(cells: readonly string[]): string {
  return `${cells.map(csvField).join(",")}\r\n`;
}

/**
 * Quotes when needed. A text cell starting with = + - @ would run as a formula
 * when the file is opened in a spreadsheet (CSV injection), so it gets a
 * leading apostrophe (OWASP's advice); names and emails come from anyone.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
