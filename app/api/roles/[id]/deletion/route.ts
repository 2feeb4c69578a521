/**
 * GET /api/roles/:id/deletion → the role's deletion progress (JSON RoleDeletionProgress, or
 * null when none has begun). The role's page polls it while a deletion runs.
 */
import { NextResponse, type NextRequest } from "next/server";
import { withUser } from "@/lib/auth/route";
import { getDb } from "@/lib/db";
import { getRoleDeletionProgress } from "@/modules/users/read/role-deletion-progress";

export const GET = withUser("users:read", async (_request: NextRequest, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const progress = /^[0-9a-f-]{36}$/i.test(id) ? await getRoleDeletionProgress(getDb(), id) : null;
  return NextResponse.json(progress, { headers: { "Cache-Control": "no-store" } });
});
