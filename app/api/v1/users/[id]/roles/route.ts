/**
 * GET /api/v1/users/:id/roles?at= → the roles the user held at that instant (default: now).
 * POST /api/v1/users/:id/roles { roleId } → assigns the role (no-op if the user has it).
 */
import { z } from "zod";
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { parseInput } from "@/lib/command/validate";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { assignRole } from "@/modules/users/application/user-commands";
import { instantSchema, rolesHeldAt } from "@/modules/users/read/role-membership";

const rolesAtQuery = z.object({ userId: z.uuid("Not a user id."), at: instantSchema("at").optional() });

export const GET = apiRoute<{ id: string }>("users:read", async ({ params, request }) => {
  const { userId, at = new Date() } = parseInput(rolesAtQuery, {
    userId: params.id,
    at: request.nextUrl.searchParams.get("at") ?? undefined,
  });
  const db = getDb();
  if (!(await db.user.findUnique({ where: { id: userId }, select: { id: true } }))) throw notFound("That user");
  return { status: 200, body: { userId, at: at.toISOString(), roles: await rolesHeldAt(db, userId, at) } };
});

export const POST = apiRoute<{ id: string }>("users:write", async ({ ctx, params, body }) =>
  commandResponse(200, await assignRole(getCommandDeps(), ctx, { ...body, userId: params.id })),
);
