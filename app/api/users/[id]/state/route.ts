/**
 * GET /api/users/:id/state?at=3 → the user's full state right after event 3,
 * folded from the user's events 1…3 (time travel). JSON StateAt.
 */
import { NextResponse, type NextRequest } from "next/server";
import { withUser } from "@/lib/auth/route";
import { getDb } from "@/lib/db";
import { getStateAt } from "@/modules/users/read/user-timeline";

export const GET = withUser("users:read", async (request: NextRequest, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const at = Number(request.nextUrl.searchParams.get("at"));
  const result = await getStateAt(getDb(), id, at);
  if (!result) return NextResponse.json({ error: "No such user or event." }, { status: 404 });
  // The events up to `at` never change, so neither does the answer.
  return NextResponse.json(result, { headers: { "Cache-Control": "private, max-age=3600, immutable" } });
});
