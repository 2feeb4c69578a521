/**
 * GET /api/v1/roles/:id/members?from=&to=&cursor=&limit= → every user who held the role at some
 * instant of [from, to] (one entry per uninterrupted holding), oldest grant first, keyset pages.
 * POST /api/v1/roles/:id/members { change: "assign" | "unassign", userIds: [...] } → the role given
 * to or taken from up to 10,000 users in batches, each user's outcome in `results`
 * (modules/users/application/bulk-roles.ts).
 */
import { apiRoute } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getCommandDeps } from "@/lib/runtime";
import { changeRoleOfUsers } from "@/modules/users/application/bulk-roles";
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

export const POST = apiRoute<{ id: string }>("users:write", async ({ ctx, params, body }) => {
  const result = await changeRoleOfUsers(getCommandDeps(), ctx, { ...body, roleId: params.id });
  const count = (outcome: string) => result.results.filter((r) => r.outcome === outcome).length;
  return {
    status: 200,
    body: {
      role: result.role,
      changed: count("changed"),
      unchanged: count("unchanged"),
      failed: count("failed"),
      results: result.results,
      // The last event on each partition: a reader waiting for its projection needs only these.
      lastEvents: result.events.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset })),
    },
  };
});
