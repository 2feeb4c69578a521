/** DomainError → HTTP: the one mapping for every route handler (console and /api/v1). */
import { isDomainError, type DomainErrorCode } from "@/lib/errors";
import { logUnexpected } from "@/lib/log";

const STATUS: Record<DomainErrorCode, number> = {
  validation: 422,
  invariant: 422,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  unauthenticated: 401,
  forbidden: 403,
};

export interface ErrorBody {
  error: { code: DomainErrorCode | "unexpected"; message: string; fieldErrors?: Record<string, string[]>; errorId?: string };
}

export function errorResponse(error: unknown): Response {
  if (isDomainError(error)) {
    const body: ErrorBody = {
      error: { code: error.code, message: error.message, ...(error.fieldErrors ? { fieldErrors: error.fieldErrors } : {}) },
    };
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (error.code === "unauthenticated") headers["www-authenticate"] = 'Bearer realm="admin-console"';
    return Response.json(body, { status: STATUS[error.code], headers });
  }
  const errorId = logUnexpected("route handler failed", error);
  const body: ErrorBody = { error: { code: "unexpected", message: `Something went wrong (error id ${errorId}).`, errorId } };
  return Response.json(body, { status: 500 });
}
