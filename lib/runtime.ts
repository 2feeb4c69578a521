/**
 * Process-wide wiring for the console (server only): the database client and
 * the one Kafka producer. (Who acts comes from the request: lib/auth.) Kept on globalThis so
 * Next's dev reloads do not open a producer per edit.
 */
import { kafkaConfig, type KafkaConfig } from "@/lib/config";
import type { CommandDeps } from "@/lib/command/execute";
import { createDb, getDb } from "@/lib/db";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createEventAppender } from "@/lib/kafka/producer";
import { createPersonalDataKeys, type PersonalDataKeys } from "@/lib/privacy/key-store";

const g = globalThis as typeof globalThis & {
  __adminConsoleDeps?: CommandDeps;
  __adminConsoleKafka?: KafkaConfig;
  __adminConsolePersonalData?: PersonalDataKeys;
};

export function getKafkaConfig(): KafkaConfig {
  g.__adminConsoleKafka ??= kafkaConfig();
  return g.__adminConsoleKafka;
}

export function getCommandDeps(): CommandDeps {
  g.__adminConsoleDeps ??= { db: getDb(), appender: createEventAppender(getKafkaConfig(), { personalData: getPersonalDataKeys() }) };
  return g.__adminConsoleDeps;
}

/** The key store of personal data (lib/privacy): seals on append, erases. */
export function getPersonalDataKeys(): PersonalDataKeys {
  // New keys are created on a small pool of their own, beside the commands' transactions.
  g.__adminConsolePersonalData ??= createPersonalDataKeys(getDb(), keyWrapperFromEnv(), {
    writer: createDb(process.env.DATABASE_URL!, { poolSize: 4 }),
  });
  return g.__adminConsolePersonalData;
}
