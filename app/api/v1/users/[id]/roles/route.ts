/** POST /api/v1/users/:id/roles { roleId } → assigns the role (no-op if the user has it). */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getCommandDeps } from "@/lib/runtime";
import { assignRole } from "@/modules/users/application/user-commands";

export const POST = apiRoute<{ id: string }>("users:write", async ({ ctx, params, body }) =>
  commandResponse(200, await assignRole(getCommandDeps(), ctx, { ...body, userId: params.id })),
);
