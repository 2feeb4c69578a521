/**
 * GET /api/v1/roles/:id/members?from=&to=&cursor=&limit= → every user who held the role at some
 * instant of [from, to] (one entry per uninterrupted holding), oldest grant first, keyset pages.
 */
import { apiRoute } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { listMembersInPeriod, parseAccessReviewQuery } from "@/modules/users/read/role-membership";

export const GET = apiRoute<{ id: string }>("users:read", async ({ params, request }) => {
  const q = request.nextUrl.searchParams;
  const query = parseAccessReviewQuery({ roleId: params.id, from: q.get("from") ?? undefined, to: q.get("to") ?? undefined });
  const db = getDb();
  const role = await db.role.findUnique({ where: { id: query.roleId }, select: { id: true, name: true, isDeleted: true } });
  if (!role) throw notFound("That role");
  const limit = Number(q.get("limit"));
  const page = await listMembersInPeriod(db, query, {
    cursor: q.get("cursor"),
    limit: Number.isInteger(limit) && limit > 0 ? limit : undefined,
  });
  return { status: 200, body: { role, from: query.from.toISOString(), to: query.to.toISOString(), ...page } };
});
