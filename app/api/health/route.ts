/**
 * Liveness of the console: 200 {"status":"up"} once the read-model database
 * answers `select 1` and first-start access (built-in roles, first admin) is
 * settled; 503 {"status":"down","error":"starting" | "database unavailable"}
 * otherwise (the start script polls this before declaring the app up). Cheap
 * on purpose (no Kafka): whether the read model is current is /api/ready's
 * question. Public, so load balancers can probe it: it tells nothing but up or down.
 */
import { connection } from "next/server";
import { accessReady } from "@/modules/access/application/bootstrap-runner";
import { getDb } from "@/lib/db";
import { withTimeout } from "@/lib/timeout";

const DB_TIMEOUT_MS = 2_000;
const headers = { "cache-control": "no-store" };

export async function GET(): Promise<Response> {
  await connection(); // never prerendered or cached: every call asks the database
  try {
    await withTimeout(getDb().$queryRaw`select 1`, DB_TIMEOUT_MS);
  } catch {
    // Not logged: a probe polls this while the database starts.
    return Response.json({ status: "down", error: "database unavailable" }, { status: 503, headers });
  }
  if (!accessReady()) return Response.json({ status: "down", error: "starting" }, { status: 503, headers });
  return Response.json({ status: "up" }, { headers });
}

