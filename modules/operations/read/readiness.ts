/**
 * GET /api/ready (server only): is the read model this console serves being kept
 * current? The verdict is stall.ts's `readiness`; this gathers its facts within
 * bounded time, so a load balancer's probe never hangs on Kafka or PostgreSQL.
 */
import type { Admin } from "kafkajs";
import type { Db } from "@/lib/db";
import { getConsumerHealth } from "./health";
import { readiness, type Readiness } from "./stall";
import { withTimeout } from "@/lib/timeout";

/** Kafka's share of the answer: past it, Kafka counts as down ("not ready" with that reason). */
const KAFKA_TIMEOUT_MS = 3_000;
/** The database's: a probe gets its answer within about this long. */
const DB_TIMEOUT_MS = 2_000;

export type ReadinessAnswer = Readiness & { liveProjectors: number; lag: number | null };

export async function checkReadiness(deps: {
  db: Db;
  admin: () => Promise<Admin>;
  group: string;
  topics: readonly string[];
  stallAfterMs: number;
  maxLag: number;
  /** False while first-start access is being set up (the console cannot sign anyone in yet). */
  accessReady: boolean;
}): Promise<ReadinessAnswer> {
  if (!deps.accessReady) return { status: "not ready", reasons: ["starting"], liveProjectors: 0, lag: null };
  const facts = { liveProjectors: 0, lag: 0n, maxLag: deps.maxLag, stalled: [], kafkaError: null, databaseError: null };
  let health;
  try {
    // The Kafka part has its own timeout inside; past both, the database is what did not answer.
    health = await withTimeout(
      getConsumerHealth({ ...deps, kafkaTimeoutMs: KAFKA_TIMEOUT_MS }),
      KAFKA_TIMEOUT_MS + DB_TIMEOUT_MS,
    );
  } catch {
    // Not logged: an orchestrator polls this while the database starts.
    return { ...readiness({ ...facts, databaseError: "unavailable" }), liveProjectors: 0, lag: null };
  }
  const lag = health.topics.reduce((n, t) => n + t.lag, 0n);
  const liveProjectors = health.instances.filter((i) => i.isAlive).length;
  const verdict = readiness({ ...facts, kafkaError: health.kafkaError, liveProjectors, lag, stalled: health.stalled });
  return { ...verdict, liveProjectors, lag: health.kafkaError ? null : Number(lag) };
}

