/**
 * The one wrapper for /api/v1 route handlers: API-token authentication
 * (`Authorization: Bearer …`), the permission check, JSON in and out, the
 * DomainError → HTTP mapping shared with the console, and `Idempotency-Key`
 * on POST. Handlers receive the principal and a command context whose actor
 * is the token's name.
 */
import type { NextRequest } from "next/server";
import { principalFromToken } from "@/lib/auth/api-tokens";
import type { Permission } from "@/lib/auth/permissions";
import { commandContextOf, type Principal } from "@/lib/auth/principal";
import type { CommandContext } from "@/lib/command/execute";
import { getDb } from "@/lib/db";
import { DomainError, forbidden, isDomainError, unauthenticated } from "@/lib/errors";
import { errorResponse } from "@/lib/http/errors";
import { requestHash, withIdempotency, type StoredResponse } from "./idempotency";

export interface ApiCall<Params> {
  request: NextRequest;
  params: Params;
  principal: Principal;
  ctx: CommandContext;
  /** The parsed JSON object body (POST/PATCH/PUT); {} when there is none. */
  body: Record<string, unknown>;
}

type Handler<Params> = (call: ApiCall<Params>) => Promise<StoredResponse>;

export function apiRoute<Params extends Record<string, string> = Record<string, never>>(
  permission: Permission,
  handler: Handler<Params>,
) {
  return async (request: NextRequest, context: { params: Promise<Params> }): Promise<Response> => {
    try {
      const db = getDb();
      const principal = await principalFromToken(db, request.headers.get("authorization"));
      if (!principal) throw unauthenticated();
      if (!principal.permissions.has(permission)) throw forbidden(permission);
      const text = request.method === "GET" || request.method === "DELETE" ? "" : await request.text();
      const body = parseBody(text);
      const call: ApiCall<Params> = {
        request,
        params: await context.params,
        principal,
        ctx: commandContextOf(principal, correlationId(request)),
        body,
      };
      const run = () => handler(call).catch(clientErrorAsResponse);
      const key = request.headers.get("idempotency-key");
      if (request.method === "POST" && key !== null && principal.kind === "token") {
        const hash = requestHash(request.method, request.nextUrl.pathname, text);
        const result = await withIdempotency(db, { tokenId: principal.tokenId, key, requestHash: hash }, run);
        return json(result, result.replayed ? { "idempotent-replayed": "true" } : {});
      }
      return json(await run());
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DomainError("validation", "The request body is not valid JSON.", { _form: ["Not valid JSON."] });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new DomainError("validation", "The request body must be a JSON object.", { _form: ["Must be a JSON object."] });
  }
  return value as Record<string, unknown>;
}

/** A caller's own correlation id (e.g. from its trace) is carried into the events, when sane. */
function correlationId(request: NextRequest): string | undefined {
  const value = request.headers.get("x-correlation-id");
  return value && /^[\w.:-]{1,200}$/.test(value) ? value : undefined;
}

/** Expected failures (4xx) are responses like any other, so an Idempotency-Key replays them too. */
async function clientErrorAsResponse(error: unknown): Promise<StoredResponse> {
  if (isDomainError(error) && error.code !== "unavailable") {
    const response = errorResponse(error);
    return { status: response.status, body: await response.json() };
  }
  throw error;
}

function json({ status, body }: StoredResponse, headers: Record<string, string> = {}): Response {
  if (status === 204) return new Response(null, { status, headers });
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

/** What a command returns over the API: where it landed and what it recorded. */
export function commandResponse(
  status: 200 | 201,
  result: { aggregateId: string; version: number; events: { event: { id: string; type: string }; topic: string; partition: number; offset: string }[] },
): StoredResponse {
  return {
    status,
    body: {
      id: result.aggregateId,
      version: result.version,
      changed: result.events.length > 0,
      events: result.events.map((e) => ({ id: e.event.id, type: e.event.type, topic: e.topic, partition: e.partition, offset: e.offset })),
    },
  };
}
