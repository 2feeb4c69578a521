/**
 * GET /api/users/:id/timeline?type=UserUpdated&before=42&limit=20 → one page of
 * the user's timeline, newest first (JSON TimelinePage). `before` is the
 * previous page's `nextBefore` (keyset on sequence).
 */
import { NextResponse, type NextRequest } from "next/server";
import { withUser } from "@/lib/auth/route";
import { getDb } from "@/lib/db";
import { getTimelinePage, isUserEventType } from "@/modules/users/read/user-timeline";

export const GET = withUser("users:read", async (request: NextRequest, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const query = request.nextUrl.searchParams;
  const type = query.get("type");
  const before = Number(query.get("before"));
  const limit = Number(query.get("limit"));
  const page = await getTimelinePage(getDb(), id, {
    type: isUserEventType(type) ? type : null,
    before: Number.isInteger(before) && before > 0 ? before : null,
    limit: Number.isInteger(limit) && limit > 0 ? limit : undefined,
  });
  if (!page) return NextResponse.json({ error: "User not found." }, { status: 404 });
  return NextResponse.json(page, { headers: { "Cache-Control": "no-store" } });
});
