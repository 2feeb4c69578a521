/**
 * The only place that builds kafkajs clients. Everything else goes through
 * this folder (topics, producer, consumer), so kafkajs is one import to swap.
 */
import { readFileSync } from "node:fs";
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
// Before any client connects: kafkajs' idle connections otherwise spin a 1 ms timer each.
import "./request-queue-fix";

const KAFKAJS_LOG_LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Timing overrides for one client (the producer keeps a tighter budget than admin and consumers). */
export type KafkaTimings = Pick<KafkaJsConfig, "connectionTimeout" | "requestTimeout" | "retry">;

export function createKafka(config: KafkaConfig, clientIdSuffix?: string, timings: KafkaTimings = {}): Kafka {
  const ssl: KafkaJsConfig["ssl"] = config.KAFKA_SSL
    ? {
        rejectUnauthorized: config.KAFKA_SSL_REJECT_UNAUTHORIZED === "true",
        ...(config.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, "utf8")] } : {}),
      }
    : undefined;
  const sasl: SASLOptions | undefined =
    config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD
      ? ({
          mechanism: config.KAFKA_SASL_MECHANISM,
          username: config.KAFKA_SASL_USERNAME,
          password: config.KAFKA_SASL_PASSWORD,
        } as SASLOptions)
      : undefined;
  return new Kafka({
    clientId: clientIdSuffix ? `${config.KAFKA_CLIENT_ID}-${clientIdSuffix}` : config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    ssl,
    sasl,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    ...timings,
    // kafkajs logs every transient broker error (e.g. "coordinator is loading"
    // while a group starts) at ERROR, though it retries them; failures that
    // matter surface as errors to the caller. Opt in to its log when diagnosing.
    logLevel: KAFKAJS_LOG_LEVELS[process.env.KAFKAJS_LOG_LEVEL ?? "nothing"] ?? logLevel.NOTHING,
  });
}
