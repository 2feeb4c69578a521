import type { z } from "zod";
import { DomainError, type FieldErrors } from "@/lib/errors";

/** Parses untrusted input; on failure throws a validation DomainError with per-field messages. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
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
