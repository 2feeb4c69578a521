/** GET /api/v1/users/:id/timeline?type=&before=&limit= → one page of the user's timeline, newest first. */
import { apiRoute } from "@/lib/api/handler";
import { getDb } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { getTimelinePage, isUserEventType } from "@/modules/users/read/user-timeline";

export const GET = apiRoute<{ id: string }>("users:read", async ({ params, request }) => {
  const q = request.nextUrl.searchParams;
  const type = q.get("type");
  const before = Number(q.get("before"));
  const limit = Number(q.get("limit"));
  const page = await getTimelinePage(getDb(), params.id, {
    type: isUserEventType(type) ? type : null,
    before: Number.isInteger(before) && before > 0 ? before : null,
    limit: Number.isInteger(limit) && limit > 0 ? limit : undefined,
  });
  if (!page) throw notFound("That user");
  return { status: 200, body: page };
});
