/**
 * Re-publishing a stored message as it was (key, value, headers) to a given
 * topic and partition: the dead-letter retry. A message sent by the console,
 * not a domain event, so not through the event appender's schema check: the
 * projector validates it again when it reads it.
 */
import type { Kafka, Producer } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createKafka } from "./client";
import { produceTimings, sendQueue } from "./producer";

export interface StoredMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export interface Republisher {
  /** Resolves with the new offset once every in-sync replica has it. */
  publish(topic: string, partition: number, message: StoredMessage): Promise<{ partition: number; offset: string }>;
  disconnect(): Promise<void>;
}

export function createRepublisher(config: KafkaConfig, kafka?: Kafka): Republisher {
  const timings = produceTimings(config.KAFKA_PRODUCE_TIMEOUT_MS);
  const client = kafka ?? createKafka(config, "republisher", timings);
  const producer: Producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: timings.retry,
  });
  // One send in flight at a time, as for the event appender (kafkajs' idempotent producer needs it).
  const oneAtATime = sendQueue();
  let connected: Promise<void> | null = null;
  return {
    async publish(topic, partition, message) {
      connected ??= producer.connect().catch((error: unknown) => {
        connected = null;
        throw error;
      });
      await connected;
      const [meta] = await oneAtATime(() =>
        producer.send({
          topic,
          acks: -1,
          timeout: timings.ackTimeout,
          messages: [{ partition, key: message.key, value: message.value, headers: message.headers }],
        }),
      );
      if (!meta || meta.errorCode !== 0 || meta.baseOffset === undefined) {
        throw new Error(`unexpected produce response ${JSON.stringify(meta)}`);
      }
      return { partition: meta.partition, offset: meta.baseOffset };
    },
    async disconnect() {
      connected = null;
      await producer.disconnect();
    },
  };
}
