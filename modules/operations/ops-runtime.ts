/**
 * Process-wide wiring for the operations pages (server only): one Kafka admin
 * client (offsets for the health page and /api/ready), one republisher
 * (dead-letter retry), the health settings. On globalThis, like lib/runtime.ts, so
 * Next's dev reloads do not open a connection per edit.
 */
import type { Admin } from "kafkajs";
import { healthConfig, type HealthConfig } from "@/lib/config";
import { createKafka } from "@/lib/kafka/client";
import { createRepublisher, type Republisher } from "@/lib/kafka/republisher";
import { getKafkaConfig } from "@/lib/runtime";

const g = globalThis as typeof globalThis & {
  __adminConsoleAdmin?: Promise<Admin>;
  __adminConsoleRepublisher?: Republisher;
  __adminConsoleHealth?: HealthConfig;
};

/** A connected admin client; a failed connection is forgotten, so the next call tries again. */
export function getKafkaAdmin(): Promise<Admin> {
  g.__adminConsoleAdmin ??= (async () => {
    // Few retries: the health page reports Kafka down quickly rather than hang.
    const admin = createKafka(getKafkaConfig(), "console-admin", {
      retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 },
    }).admin();
    await admin.connect();
    return admin;
  })().catch((error: unknown) => {
    g.__adminConsoleAdmin = undefined;
    throw error;
  });
  return g.__adminConsoleAdmin;
}

export function getRepublisher(): Republisher {
  g.__adminConsoleRepublisher ??= createRepublisher(getKafkaConfig());
  return g.__adminConsoleRepublisher;
}

/** PROJECTION_STALL_AFTER_MS, READY_MAX_LAG and the notifiers' groups, parsed once. */
export function getHealthConfig(): HealthConfig {
  g.__adminConsoleHealth ??= healthConfig();
  return g.__adminConsoleHealth;
}
