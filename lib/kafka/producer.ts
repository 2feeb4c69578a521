/**
 * The event store's append: one idempotent producer per process, acks from all
 * in-sync replicas, and a bounded time to fail so a command never hangs.
 */
import type { Kafka, Message, Producer } from "kafkajs";
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
  /**
   * Appends events of one aggregate (one key, so one partition, in order).
   * Resolves after the broker's ack; rejects once kafkajs has given up, within
   * about KAFKA_PRODUCE_TIMEOUT_MS (see produceTimings).
   */
  append(events: readonly DomainEvent[]): Promise<AppendedEvent[]>;
  disconnect(): Promise<void>;
}

/**
 * kafkajs' own bounds for one append, derived from KAFKA_PRODUCE_TIMEOUT_MS so
 * that its retries end inside that budget. There is deliberately no outer
 * timer racing the send: a timer that fires while kafkajs is still retrying
 * would report a failure for a write that then lands (the fault drills caught
 * exactly that). Worst case: 2 attempts × (connect + request) + backoff.
 */
export function produceTimings(budgetMs: number) {
  return {
    connectionTimeout: Math.round(budgetMs * 0.15),
    requestTimeout: Math.round(budgetMs * 0.3),
    /** How long the leader waits for in-sync replicas (below requestTimeout). */
    ackTimeout: Math.round(budgetMs * 0.25),
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 500 },
  };
}

/**
 * An idempotent producer with the append's time budget, acks from all in-sync
 * replicas, connected on first use. Sends one batch of messages to one topic
 * (and partition, if given) and resolves with where it landed.
 */
export function createSerialProducer(config: KafkaConfig, clientIdSuffix: string, kafka?: Kafka) {
  const timings = produceTimings(config.KAFKA_PRODUCE_TIMEOUT_MS);
  const client = kafka ?? createKafka(config, clientIdSuffix, timings);
  const newProducer = (): Producer =>
    client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: timings.retry });
  let producer = newProducer();
  /**
   * kafkajs' idempotent producer is only correct with one send() awaited at a
   * time (tulios/kafkajs#353): with concurrent sends, a retry across a leader
   * change can write one batch twice and acknowledge another that never landed.
   * Drill 3 (a broker of three killed under load) caught exactly that: one
   * acknowledged event missing, another duplicated. So sends queue here.
   * Coalescing queued appends into one sendBatch is the next step for throughput.
   */
  let tail: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(send: () => Promise<T>): Promise<T> => {
    const result = tail.then(send, send);
    tail = result.catch(() => undefined);
    return result;
  };
  let connected: Promise<void> | null = null;
  const connect = () => {
    connected ??= producer.connect().catch((error: unknown) => {
      connected = null;
      throw error;
    });
    return connected;
  };
  /**
   * After a failed send, the idempotent producer's sequence numbers can no
   * longer be trusted: the failed batch may have landed (a timeout after the
   * write), and kafkajs reuses its sequence number for the next batch, which
   * the broker then takes for a duplicate of the landed one: it answers
   * success with the earlier batch's offset and drops the new events. Drill 3
   * (a broker of three SIGKILLed under load) showed exactly that: two
   * acknowledged events missing, the two "failed" ones in the log. So a failed
   * send ends this producer; the next send starts a new one (a new producer
   * id, sequences from zero).
   */
  const replaceProducer = async () => {
    const old = producer;
    producer = newProducer();
    connected = null;
    await old.disconnect().catch(() => undefined);
  };
  return {
    async send(topic: string, messages: Message[]): Promise<{ partition: number; baseOffset: bigint }> {
      const metadata = await oneAtATime(async () => {
        try {
          await connect();
          return await producer.send({ topic, acks: -1, timeout: timings.ackTimeout, messages });
        } catch (error) {
          await replaceProducer();
          throw error;
        }
      });
      const meta = metadata[0];
      if (!meta || meta.errorCode !== 0 || meta.baseOffset === undefined) {
        throw new Error(`unexpected produce response ${JSON.stringify(metadata)}`);
      }
      return { partition: meta.partition, baseOffset: BigInt(meta.baseOffset) };
    },
    async disconnect() {
      connected = null;
      await producer.disconnect();
    },
  };
}

export function createEventAppender(config: KafkaConfig, kafka?: Kafka): EventAppender {
  const producer = createSerialProducer(config, "producer", kafka);
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
        const { partition, baseOffset } = await producer.send(topic, messages);
        return events.map((event, i) => ({
          event,
          topic,
          partition,
          offset: String(baseOffset + BigInt(i)),
        }));
      } catch (error) {
        throw new DomainError(
          "unavailable",
          `The event store (Kafka) did not acknowledge the change, so it was not saved: ${(error as Error).message}`,
        );
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
