/** GET /api/v1/roles (live roles with member counts) · POST /api/v1/roles (create). */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getCommandDeps } from "@/lib/runtime";
import { createRole } from "@/modules/roles/application/role-commands";
import { listRoles } from "@/modules/roles/read/list-roles";

export const GET = apiRoute("users:read", async () => ({ status: 200, body: { roles: await listRoles(getDb()) } }));

export const POST = apiRoute("roles:write", async ({ ctx, body }) =>
  commandResponse(201, await createRole(getCommandDeps(), ctx, body)),
);
