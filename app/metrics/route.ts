/**
 * Prometheus metrics of this console process: command latency and outcome by
 * command type, open dead letters, and Node.js process metrics. For a scraper
 * with an API token (any scope: `Authorization: Bearer …`), or a signed-in
 * operator (`ops:manage`).
 */
import { connection } from "next/server";
import { principalFromToken } from "@/lib/auth/api-tokens";
import { currentUser } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { forbidden, unauthenticated } from "@/lib/errors";
import { errorResponse } from "@/lib/http/errors";
import { scrape } from "@/lib/metrics/registry";
import { setOpenDeadLetters } from "@/lib/metrics/console-metrics";

export const runtime = "nodejs";

export async function GET(request: Request): Promise<Response> {
  await connection();
  const token = await principalFromToken(getDb(), request.headers.get("authorization"));
  if (!token) {
    const user = await currentUser();
    if (!user) return errorResponse(unauthenticated());
    if (!user.permissions.has("ops:manage")) return errorResponse(forbidden("ops:manage"));
  }
  try {
    const [row] = await getDb().$queryRaw<{ open: number }[]>`SELECT count(*)::int AS open FROM dead_letters WHERE status = 'open'`;
    setOpenDeadLetters(row?.open ?? 0);
  } catch {
    // The database is down: the other metrics still answer (and say so, through their absence of change).
  }
  const { body, contentType } = await scrape();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
}
