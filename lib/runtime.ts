/**
 * Process-wide wiring for the console (server only): the database client, the
 * one Kafka producer, and the actor recorded on events. Kept on globalThis so
 * Next's dev reloads do not open a producer per edit.
 */
import { kafkaConfig, type KafkaConfig } from "@/lib/config";
import type { CommandContext, CommandDeps } from "@/lib/command/execute";
import { getDb } from "@/lib/db";
import { createEventAppender } from "@/lib/kafka/producer";

const g = globalThis as typeof globalThis & { __adminConsoleDeps?: CommandDeps; __adminConsoleKafka?: KafkaConfig };

export function getKafkaConfig(): KafkaConfig {
  g.__adminConsoleKafka ??= kafkaConfig();
  return g.__adminConsoleKafka;
}

export function getCommandDeps(): CommandDeps {
  g.__adminConsoleDeps ??= { db: getDb(), appender: createEventAppender(getKafkaConfig()) };
  return g.__adminConsoleDeps;
}

/**
 * Who the console acts as. Until console sign-in exists (issue "Who may do
 * what"), every console change is attributed to this service name.
 */
export function consoleContext(): CommandContext {
  return { actor: { kind: "service", name: process.env.CONSOLE_ACTOR_NAME ?? "admin-console" } };
}
