/** GET /api/v1/users (search, filter, keyset pages) · POST /api/v1/users (create). */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { getCommandDeps } from "@/lib/runtime";
import { createUser } from "@/modules/users/application/user-commands";
import { isUserSort, isUserStatusFilter, listUsers } from "@/modules/users/read/list-users";

export const GET = apiRoute("users:read", async ({ request }) => {
  const q = request.nextUrl.searchParams;
  const status = q.get("status");
  const sort = q.get("sort");
  const limit = Number(q.get("limit") ?? 50);
  const page = await listUsers(getDb(), {
    search: q.get("q") ?? "",
    status: isUserStatusFilter(status) ? status : "live",
    roleId: q.get("role"),
    sort: isUserSort(sort) ? sort : "created",
    cursor: q.get("cursor"),
    limit: Number.isInteger(limit) ? Math.min(Math.max(limit, 1), 200) : 50,
  });
  return { status: 200, body: page };
});

export const POST = apiRoute("users:write", async ({ ctx, body }) =>
  commandResponse(201, await createUser(getCommandDeps(), ctx, body)),
);
