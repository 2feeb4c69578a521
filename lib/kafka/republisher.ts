/**
 * Re-publishing a stored message as it was (key, value, headers) to a given
 * topic and partition: the dead-letter retry. A message sent by the console,
 * not a domain event, so not through the event appender's schema check: the
 * projector validates it again when it reads it.
 */
import type { Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createSerialProducer } from "./producer";

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
  const producer = createSerialProducer(config, "republisher", kafka);
  return {
    async publish(topic, partition, message) {
      const at = await producer.send(topic, [{ partition, key: message.key, value: message.value, headers: message.headers }]);
      return { partition: at.partition, offset: String(at.baseOffset) };
    },
    disconnect: () => producer.disconnect(),
  };
}
