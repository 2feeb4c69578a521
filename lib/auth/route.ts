/**
 * Console route handlers (session cookie): the session and permission check
 * comes first, then the handler; refusals are JSON 401 / 403.
 */
import { errorResponse } from "@/lib/http/errors";
import { requireUser } from "./guard";
import type { Permission } from "./permissions";

export function withUser<Req extends Request, Ctx>(
  permission: Permission,
  handler: (request: Req, context: Ctx) => Promise<Response> | Response,
): (request: Req, context: Ctx) => Promise<Response> {
  return async (request, context) => {
    try {
      await requireUser(permission);
      return await handler(request, context);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
