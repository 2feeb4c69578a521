/** GET · PATCH (email, name; expectedVersion) · DELETE (?expectedVersion=) /api/v1/users/:id */
import { apiRoute, commandResponse } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { deleteUser, updateUser } from "@/modules/users/application/user-commands";
import { getUser } from "@/modules/users/read/get-user";

type Params = { id: string };

export const GET = apiRoute<Params>("users:read", async ({ params }) => {
  const user = await getUser(getDb(), params.id);
  if (!user) throw notFound("That user");
  const { timeline: _timeline, ...profile } = user;
  return { status: 200, body: profile };
});

export const PATCH = apiRoute<Params>("users:write", async ({ ctx, params, body }) =>
  commandResponse(200, await updateUser(getCommandDeps(), ctx, { ...body, userId: params.id })),
);

export const DELETE = apiRoute<Params>("users:write", async ({ ctx, params, request }) =>
  commandResponse(
    200,
    await deleteUser(getCommandDeps(), ctx, {
      userId: params.id,
      expectedVersion: request.nextUrl.searchParams.get("expectedVersion") ?? undefined,
    }),
  ),
);
