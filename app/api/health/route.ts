/**
 * Readiness: 200 { ok: true } once the read-model database answers `select 1`
 * and first-start access (built-in roles, first admin) is settled; 503
 * otherwise (the start script polls this before declaring the app up).
 * Public on purpose, so load balancers can probe it: it tells nothing but
 * up or down.
 */
import { connection } from "next/server";
import { accessReady } from "@/lib/auth/bootstrap-runner";
import { getDb } from "@/lib/db";

const DB_TIMEOUT_MS = 2_000;

export async function GET(): Promise<Response> {
  await connection(); // never prerendered or cached: every call asks the database
  try {
    await withTimeout(getDb().$queryRaw`select 1`, DB_TIMEOUT_MS);
    if (!accessReady()) {
      return Response.json({ ok: false, error: "starting" }, { status: 503, headers: { "cache-control": "no-store" } });
    }
    return Response.json({ ok: true }, { headers: { "cache-control": "no-store" } });
  } catch {
    // Not logged: a readiness probe polls this while the database starts.
    return Response.json(
      { ok: false, error: "database unavailable" },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
