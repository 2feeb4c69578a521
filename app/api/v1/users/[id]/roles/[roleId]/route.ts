/** DELETE /api/v1/users/:id/roles/:roleId → unassigns the role (no-op if the user lacks it). */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getCommandDeps } from "@/lib/runtime";
import { unassignRole } from "@/modules/users/application/user-commands";

export const DELETE = apiRoute<{ id: string; roleId: string }>("users:write", async ({ ctx, params }) =>
  commandResponse(200, await unassignRole(getCommandDeps(), ctx, { userId: params.id, roleId: params.roleId })),
);
