/**
 * The event store's append: one idempotent producer per process, acks from all
 * in-sync replicas, and a bounded time to fail so a command never hangs.
 */
import type { Kafka, Producer } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { DomainError } from "@/lib/errors";
import { encodeEvent } from "@/lib/events/codec";
import { streamOf, type DomainEvent } from "@/lib/events/registry";
import { createKafka } from "./client";
import { topicName } from "./topics";

export interface AppendedEvent {
  event: DomainEvent;
  topic: string;
  partition: number;
  offset: string;
}

export interface EventAppender {
  /** Appends events of one aggregate (one key, so one partition, in order). Resolves after the broker's ack. */
  append(events: readonly DomainEvent[]): Promise<AppendedEvent[]>;
  disconnect(): Promise<void>;
}

export function createEventAppender(config: KafkaConfig, kafka: Kafka = createKafka(config, "producer")): EventAppender {
  const timeoutMs = config.KAFKA_PRODUCE_TIMEOUT_MS;
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Retries stay well inside the command's time budget (connect 3 s + backoff).
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1000 },
  });
  let connected: Promise<void> | null = null;
  const connect = () => {
    connected ??= producer.connect().catch((error: unknown) => {
      connected = null;
      throw error;
    });
    return connected;
  };

  return {
    async append(events) {
      if (events.length === 0) return [];
      const first = events[0]!;
      if (events.some((e) => e.aggregateId !== first.aggregateId)) {
        throw new Error("append() takes the events of one aggregate");
      }
      const topic = topicName(streamOf(first.type), config);
      const messages = events.map(encodeEvent);
      try {
        const metadata = await withDeadline(
          (async () => {
            await connect();
            return producer.send({ topic, acks: -1, timeout: timeoutMs, messages });
          })(),
          timeoutMs,
        );
        const meta = metadata[0];
        if (!meta || meta.errorCode !== 0 || meta.baseOffset === undefined) {
          throw new Error(`unexpected produce response ${JSON.stringify(metadata)}`);
        }
        const base = BigInt(meta.baseOffset);
        return events.map((event, i) => ({
          event,
          topic,
          partition: meta.partition,
          offset: String(base + BigInt(i)),
        }));
      } catch (error) {
        throw new DomainError(
          "unavailable",
          `The event store (Kafka) did not acknowledge the change, so nothing was saved: ${(error as Error).message}`,
        );
      }
    },
    async disconnect() {
      connected = null;
      await producer.disconnect();
    },
  };
}

/**
 * kafkajs bounds each request, not the whole send (metadata refresh and
 * reconnects add up). If the deadline passes first the caller sees a failure;
 * the idempotent producer may still complete the write, which the projector
 * then repairs into the command-side head (see the README, "Failure windows").
 */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
