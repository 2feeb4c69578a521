/**
 * GET /api/users/:id/timeline/export?format=csv|json → every event of the
 * user, oldest first, streamed in batches (a stream of any length never sits
 * in memory whole), as a download.
 */
import type { NextRequest } from "next/server";
import { withUser } from "@/lib/auth/route";
import { getDb } from "@/lib/db";
import { streamTimeline } from "@/modules/users/read/user-timeline";
import { CSV_HEADER, csvRow, timelineCsvCells } from "@/modules/users/read/timeline-csv";

export const GET = withUser("users:read", async (request: NextRequest, { params }: { params: Promise<{ id: string }> }) => {
  const { id } = await params;
  const format = request.nextUrl.searchParams.get("format") === "csv" ? "csv" : "json";
  const db = getDb();
  const user = /^[0-9a-f-]{36}$/i.test(id)
    ? await db.user.findUnique({ where: { id }, select: { email: true } })
    : null;
  if (!user) return new Response("User not found.", { status: 404 });

  const encoder = new TextEncoder();
  const events = streamTimeline(db, id);
  let first = true;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === "csv" ? csvRow(CSV_HEADER) : "[\n"));
    },
    async pull(controller) {
      const next = await events.next();
      if (next.done) {
        if (format === "json") controller.enqueue(encoder.encode("\n]\n"));
        controller.close();
        return;
      }
      const e = next.value;
      if (format === "csv") {
        controller.enqueue(encoder.encode(csvRow(timelineCsvCells(e))));
      } else {
        const { eventId, ...rest } = e;
        const json = JSON.stringify({ id: eventId, aggregateId: id, ...rest });
        controller.enqueue(encoder.encode(`${first ? "" : ",\n"}${json}`));
      }
      first = false;
    },
    async cancel() {
      await events.return(undefined);
    },
  });

  const safeName = user.email.replace(/[^a-z0-9@._-]/gi, "_");
  return new Response(body, {
    headers: {
      "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="timeline-${safeName}.${format}"`,
      "Cache-Control": "no-store",
    },
  });
});
