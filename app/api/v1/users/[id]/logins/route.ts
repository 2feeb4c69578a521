/**
 * POST /api/v1/users/:id/logins { ip?, userAgent? } → records UserLoggedIn: for
 * an auth service whose users sign in elsewhere (the console records its own).
 */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getCommandDeps } from "@/lib/runtime";
import { recordLogin } from "@/modules/users/application/user-commands";

export const POST = apiRoute<{ id: string }>("users:write", async ({ ctx, params, body }) =>
  commandResponse(201, await recordLogin(getCommandDeps(), ctx, { ...body, userId: params.id })),
);
