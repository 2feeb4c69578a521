/**
 * Errors the command side can return to a caller. Expected errors carry a
 * message meant for the admin (and field errors for forms); anything else is
 * an unexpected failure, logged with an id and shown as a generic message.
 */
export type FieldErrors = Record<string, string[]>;

export type DomainErrorCode =
  | "validation" // input failed its schema
  | "not_found" // the aggregate does not exist (or no longer does)
  | "conflict" // expectedVersion did not match: someone else changed it
  | "invariant" // a business rule refused the command (e.g. email taken)
  | "unavailable" // the event store did not acknowledge the append
  | "unauthenticated" // no valid session or API token
  | "forbidden"; // signed in, but without the permission this needs

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new DomainError("not_found", `${what} was not found.`);

export const conflict = (what: string, expected: number, actual: number) =>
  new DomainError(
    "conflict",
    `${what} was changed by someone else (you saw version ${expected}, it is now at version ${actual}). Reload and try again.`,
  );

export const invariant = (message: string, fieldErrors?: FieldErrors) =>
  new DomainError("invariant", message, fieldErrors);

export const unauthenticated = () => new DomainError("unauthenticated", "Sign in to continue.");

export const forbidden = (needed: string) =>
  new DomainError("forbidden", `You do not have permission to do this (it needs "${needed}").`);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/** Exhaustiveness check for switches over discriminated unions. */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
