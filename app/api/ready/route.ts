/**
 * Readiness, for load balancers and orchestrators: 200 {"status":"ready",…}
 * while the read model is kept current (database and Kafka answer, a projector
 * is live, no projector partition is stalled, total lag within READY_MAX_LAG);
 * 503 {"status":"not ready","reasons":[…]} otherwise. Public on purpose, like
 * /api/health: it tells partitions, offsets and error messages (first line,
 * credentials in URLs masked), no data and no configuration.
 */
import { connection } from "next/server";
import { accessReady } from "@/modules/access/application/bootstrap-runner";
import { getDb } from "@/lib/db";
import { topicName } from "@/lib/kafka/topics";
import { app } from "@/modules";
import { getKafkaConfig } from "@/lib/runtime";
import { getHealthConfig, getKafkaAdmin } from "@/modules/operations/ops-runtime";
import { checkReadiness } from "@/modules/operations/read/readiness";

export async function GET(): Promise<Response> {
  await connection(); // never prerendered or cached: every call asks again
  const config = getKafkaConfig();
  const settings = getHealthConfig();
  const answer = await checkReadiness({
    db: getDb(),
    admin: getKafkaAdmin,
    group: config.PROJECTOR_GROUP_ID,
    topics: app.streams.map((s) => topicName(s, config)),
    stallAfterMs: settings.PROJECTION_STALL_AFTER_MS,
    maxLag: settings.READY_MAX_LAG,
    accessReady: accessReady(),
  });
  return Response.json(answer, { status: answer.status === "ready" ? 200 : 503, headers: { "cache-control": "no-store" } });
}
