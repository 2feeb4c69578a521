/**
 * Rows in the text format of PostgreSQL's `COPY … FROM STDIN` (tab-separated,
 * `\N` for null, backslash escapes): the projector's timeline rows
 * (lib/sql-tx.ts `copyRows`) and the rebuild's bulk load. The values must read
 * back exactly as the projections' `jsonb_to_recordset` statements write theirs:
 * the rebuild's verification compares every table with the live one.
 */

/**
 * A COPY value: null; a string, number, bigint or boolean; an array of strings (a PostgreSQL
 * array); any other object is written as JSON (json/jsonb columns).
 */
export type CopyValue = string | number | bigint | boolean | null | readonly string[] | object;

/** Backslash, tab, newline and carriage return are the characters the text format escapes. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

export function escapeCopyText(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

/** A PostgreSQL array literal of strings, every element quoted (no element is mistaken for NULL). */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}

/**
 * A non-null value as the text a column's input function reads (before COPY's escaping): what a
 * row sent as query parameters carries, so it reads back exactly as the same row copied.
 */
export function copyText(value: CopyValue): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
      return String(value);
    case "boolean":
      return value ? "t" : "f";
    default:
      return Array.isArray(value) ? arrayLiteral(value as readonly string[]) : JSON.stringify(value);
  }
}

export function copyValue(value: CopyValue | undefined): string {
  if (value === null || value === undefined) return "\\N";
  return escapeCopyText(copyText(value));
}

/** One row: its values tab-separated, ending in a newline. */
export function copyLine(values: readonly (CopyValue | undefined)[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) line += (i ? "\t" : "") + copyValue(values[i]);
  return `${line}\n`;
}
