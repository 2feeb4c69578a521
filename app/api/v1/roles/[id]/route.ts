/** GET · PATCH (name, description, permissions; expectedVersion) · DELETE (?expectedVersion=) /api/v1/roles/:id */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { deleteRole, updateRole } from "@/modules/roles/application/role-commands";
import { getRole } from "@/modules/roles/read/get-role";

type Params = { id: string };

export const GET = apiRoute<Params>("users:read", async ({ params }) => {
  const role = await getRole(getDb(), params.id, { historyLimit: 0 });
  if (!role) throw notFound("That role");
  const { history: _history, hasMoreHistory: _more, ...rest } = role;
  return { status: 200, body: rest };
});

export const PATCH = apiRoute<Params>("roles:write", async ({ ctx, params, body }) =>
  commandResponse(200, await updateRole(getCommandDeps(), ctx, { ...body, roleId: params.id })),
);

export const DELETE = apiRoute<Params>("roles:write", async ({ ctx, params, request }) => {
  const result = await deleteRole(getCommandDeps(), ctx, {
    roleId: params.id,
    expectedVersion: request.nextUrl.searchParams.get("expectedVersion") ?? undefined,
  });
  const response = commandResponse(200, result);
  return { ...response, body: { ...(response.body as object), unassignedUsers: result.unassigned.userIds } };
});
