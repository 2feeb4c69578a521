import type { z } from "zod";
import { DomainError, type FieldErrors } from "@/lib/errors";

/** Parses untrusted input; on failure throws a validation DomainError with per-field messages. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) {
    // U+0000 passes every string schema, but PostgreSQL text/jsonb cannot store it:
    // the command would fail late, or its event would never reach the read model.
    const nul = nulPaths(result.data);
    if (nul.length === 0) return result.data;
    const fieldErrors: FieldErrors = Object.fromEntries(nul.map((f) => [f, ["Must not contain the NUL character (U+0000)."]]));
    throw new DomainError("validation", `Some fields are not valid (${nul.join(", ")}: NUL character).`, fieldErrors);
  }
  const fieldErrors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length ? issue.path.join(".") : "_form";
    (fieldErrors[field] ??= []).push(issue.message);
  }
  const summary = Object.entries(fieldErrors)
    .map(([field, messages]) => `${field}: ${messages.join(" ")}`)
    .join("; ");
  throw new DomainError("validation", `Some fields are not valid (${summary}).`, fieldErrors);
}

/** Paths (as in fieldErrors) of the strings in `value` that contain U+0000. */
function nulPaths(value: unknown, path: string[] = []): string[] {
  if (typeof value === "string") return value.includes("\u0000") ? [path.length ? path.join(".") : "_form"] : [];
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => nulPaths(v, [...path, k]));
  }
  return [];
}
