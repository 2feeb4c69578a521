/**
 * Process-wide wiring for the operations pages (server only): one Kafka admin
 * client (end offsets for the health page), one republisher (dead-letter
 * retry). On globalThis, like lib/runtime.ts, so
 * Next's dev reloads do not open a connection per edit.
 */
import type { Admin } from "kafkajs";
import { createKafka } from "@/lib/kafka/client";
import { createRepublisher, type Republisher } from "@/lib/kafka/republisher";
import { getKafkaConfig } from "@/lib/runtime";

const g = globalThis as typeof globalThis & { __adminConsoleAdmin?: Promise<Admin>; __adminConsoleRepublisher?: Republisher };

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
