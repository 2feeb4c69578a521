/**
 * Prometheus metrics of this console process: command latency and outcome by
 * command type, open dead letters, and Node.js process metrics. Unauthenticated,
 * like /api/health: expose it to the scraper only (at the load balancer).
 */
import { connection } from "next/server";
import { getDb } from "@/lib/db";
import { scrape } from "@/lib/metrics/registry";
import { setOpenDeadLetters } from "@/lib/metrics/console-metrics";

export const runtime = "nodejs";

export async function GET(): Promise<Response> {
  await connection();
  try {
    const [row] = await getDb().$queryRaw<{ open: number }[]>`SELECT count(*)::int AS open FROM dead_letters WHERE status = 'open'`;
    setOpenDeadLetters(row?.open ?? 0);
  } catch {
    // The database is down: the other metrics still answer (and say so, through their absence of change).
  }
  const { body, contentType } = await scrape();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
}
