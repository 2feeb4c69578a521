/**
 * GET /api/access-review/export?role=&from=&to= → the access review's "Members in period" as CSV,
 * every interval, streamed page by page (a role with 100,000 members never sits in memory whole).
 */
import type { NextRequest } from "next/server";
import { withUser } from "@/lib/auth/route";
import { getDb } from "@/lib/db";
import { ACCESS_REVIEW_CSV_HEADER, accessReviewCsvCells } from "@/modules/users/read/access-review-csv";
import { parseAccessReviewQuery, streamMembersInPeriod } from "@/modules/users/read/role-membership";
import { csvRow } from "@/modules/users/read/timeline-csv";

export const GET = withUser("users:read", async (request: NextRequest) => {
  const q = request.nextUrl.searchParams;
  // A bad query is a 422 naming each field (withUser maps the validation error).
  const query = parseAccessReviewQuery({ roleId: q.get("role") ?? undefined, from: q.get("from") ?? undefined, to: q.get("to") ?? undefined });
  const encoder = new TextEncoder();
  const rows = streamMembersInPeriod(getDb(), query);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvRow(ACCESS_REVIEW_CSV_HEADER)));
    },
    async pull(controller) {
      const next = await rows.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(csvRow(accessReviewCsvCells(next.value))));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[:T]/g, "");
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="access-review-${query.roleId.slice(0, 8)}-${stamp(query.from)}-${stamp(query.to)}.csv"`,
      "Cache-Control": "no-store",
    },
  });
});
