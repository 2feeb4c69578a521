/**
 * The event store's append: one idempotent producer per process, acks from all
 * in-sync replicas, and a bounded time to fail so a command never hangs.
 */
import { randomUUID } from "node:crypto";
import { Partitioners, type Kafka, type Message, type PartitionerArgs, type Producer, type RecordMetadata } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { DomainError } from "@/lib/errors";
import type { Serde } from "@/lib/events/codec";
import type { AnyEvent } from "@/lib/events/envelope";
import type { PersonalDataKeys, Queryable } from "@/lib/privacy/key-store";
import { createKafka } from "./client";
import { topicName } from "./topics";

export interface AppendedEvent<E extends AnyEvent = AnyEvent> {
  event: E;
  topic: string;
  partition: number;
  offset: string;
}

export interface EventAppender {
  /**
   * Appends events of one aggregate (one key, so one partition, in order).
   * Resolves after the broker's ack; rejects once kafkajs has given up, within
   * about KAFKA_PRODUCE_TIMEOUT_MS (see produceTimings). `serde` (the modules'
   * or one module's, lib/events/codec.ts) validates and encodes them and names their topic.
   */
  append<E extends AnyEvent>(events: readonly E[], serde: EventEncoder<E>, options?: AppendOptions): Promise<AppendedEvent<E>[]>;
  /**
   * Appends the events of many aggregates of one stream in one produce request (each key to its
   * partition, each aggregate's events in the order given), for a command that changes many
   * aggregates at once under their locks (a role's deletion unassigning its members). Resolves with
   * where each event landed, in the order given, after the broker's ack; the request succeeds or
   * fails as a whole, like `append`.
   */
  appendMany<E extends AnyEvent>(events: readonly E[], serde: EventEncoder<E>, options?: AppendOptions): Promise<AppendedEvent<E>[]>;
  /**
   * Makes sure these people's keys exist (created and committed) and are at hand, before the
   * command's append (lib/command/execute.ts starts it beside its transaction).
   */
  prepare(subjects: readonly string[]): Promise<void>;
  /**
   * An id for a new person (a new user's aggregate id) whose key is already created and
   * committed, so their first command costs no key creation (lib/privacy/key-store.ts, newSubject).
   */
  newSubject(): Promise<string>;
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
 * Bounds of one coalesced request. The broker refuses a partition's record
 * batch above message.max.bytes (1 MiB by default) and would fail every send
 * in the request, so sends stop joining a request at half that (a send that
 * is larger on its own still goes, alone, as it would have before).
 */
const MAX_COALESCED_SENDS = 500;
/** Events encoded between two yields to the event loop (appendMany's batches). */
const ENCODE_SLICE = 50;
const MAX_COALESCED_BYTES = 512 * 1024;

const sizeOf = (value: Message["key"] | Message["value"]) =>
  value == null ? 0 : typeof value === "string" ? Buffer.byteLength(value) : value.length;

interface QueuedSend {
  topic: string;
  messages: Message[];
  /** Where each message landed, in the order given. */
  resolve: (at: Array<{ partition: number; offset: bigint }>) => void;
  reject: (error: unknown) => void;
}

/**
 * An idempotent producer with the append's time budget, acks from all in-sync
 * replicas, connected on first use. Sends one batch of messages to one topic
 * (and partition, if given) and resolves with where it landed.
 */
export function createSerialProducer(config: KafkaConfig, clientIdSuffix: string, kafka?: Kafka) {
  const timings = produceTimings(config.KAFKA_PRODUCE_TIMEOUT_MS);
  const client = kafka ?? createKafka(config, clientIdSuffix, timings);
  /** The partition kafkajs chose for each message of the request being sent (kafkajs' default partitioner, unchanged). */
  const partitionOf = new WeakMap<Message, number>();
  const recordingPartitioner = () => {
    const partition = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs) => {
      const chosen = partition(args);
      partitionOf.set(args.message, chosen);
      return chosen;
    };
  };
  const newProducer = (): Producer =>
    client.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: timings.retry,
      createPartitioner: recordingPartitioner,
    });
  let producer = newProducer();
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

  /**
   * kafkajs' idempotent producer is only correct with one send() awaited at a
   * time (tulios/kafkajs#353): with concurrent sends, a retry across a leader
   * change can write one batch twice and acknowledge another that never landed.
   * Drill 3 (a broker of three killed under load) caught exactly that: one
   * acknowledged event missing, another duplicated. So one request is in
   * flight at a time, and the sends that arrive meanwhile wait here. They go
   * out together as one sendBatch when it returns: one round trip for all of
   * them instead of one each (the appends of concurrent commands used to queue
   * one behind the other, each paying a full ack round trip).
   */
  let queue: QueuedSend[] = [];
  let sending = false;
  const drain = async () => {
    sending = true;
    try {
      while (queue.length) {
        let bytes = 0;
        let count = 0;
        while (count < queue.length && count < MAX_COALESCED_SENDS) {
          const size = queue[count]!.messages.reduce((n, m) => n + sizeOf(m.key) + sizeOf(m.value), 0);
          if (count > 0 && bytes + size > MAX_COALESCED_BYTES) break;
          bytes += size;
          count++;
        }
        const sends = queue.slice(0, count);
        queue = queue.slice(count);
        // Settling twice is a no-op: this only reaches sends a bug left unsettled.
        await sendTogether(sends).catch((error: unknown) => sends.forEach((s) => s.reject(error)));
      }
    } finally {
      sending = false;
    }
  };
  /** One produce request for all of `sends`; settles each of them, never throws. */
  const sendTogether = async (sends: QueuedSend[]) => {
    const byTopic = new Map<string, Message[]>();
    for (const s of sends) {
      const list = byTopic.get(s.topic) ?? [];
      list.push(...s.messages);
      byTopic.set(s.topic, list);
    }
    let metadata: RecordMetadata[];
    try {
      await connect();
      metadata = await producer.sendBatch({
        acks: -1,
        timeout: timings.ackTimeout,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (error) {
      // The whole request failed (or may have landed only in part): every send in it is reported failed.
      await replaceProducer();
      for (const s of sends) s.reject(error);
      return;
    }
    // kafkajs keeps each partition's messages in the order given, and the
    // response has each partition's base offset: a message's offset is that
    // base plus the number of messages before it in the same partition.
    const baseOf = new Map(metadata.map((m) => [`${m.topicName}/${m.partition}`, m]));
    const taken = new Map<string, bigint>();
    for (const s of sends) {
      const landed = s.messages.map((m) => {
        const partition = partitionOf.get(m);
        const key = `${s.topic}/${partition}`;
        const meta = baseOf.get(key);
        const index = taken.get(key) ?? 0n;
        taken.set(key, index + 1n);
        if (partition === undefined || !meta || meta.errorCode !== 0 || meta.baseOffset === undefined) return null;
        return { partition, offset: BigInt(meta.baseOffset) + index };
      });
      if (landed.length === 0 || landed.some((at) => at === null)) {
        s.reject(new Error(`unexpected produce response for ${s.topic}: ${JSON.stringify(metadata)}`));
      } else s.resolve(landed as Array<{ partition: number; offset: bigint }>);
    }
  };
  const enqueue = (topic: string, messages: Message[]) =>
    new Promise<Array<{ partition: number; offset: bigint }>>((resolve, reject) => {
      queue.push({ topic, messages, resolve, reject });
      if (!sending) void drain();
    });

  return {
    /** Messages of one key: one partition, consecutive offsets from `baseOffset`. */
    async send(topic: string, messages: Message[]): Promise<{ partition: number; baseOffset: bigint }> {
      const landed = await enqueue(topic, messages);
      const first = landed[0]!;
      if (landed.some((at) => at.partition !== first.partition)) throw new Error(`unexpected produce response for ${topic}: one send spread over partitions`);
      return { partition: first.partition, baseOffset: first.offset };
    },
    /** Messages of any keys: where each landed, in the order given. */
    sendMany: enqueue,
    async disconnect() {
      connected = null;
      await producer.disconnect();
    },
  };
}

/** What an append needs of a serde. */
export type EventEncoder<E extends AnyEvent = AnyEvent> = Pick<Serde<E>, "encode" | "streamOf" | "personalSubjects">;

export interface AppendOptions {
  /**
   * The command's transaction: keys not at hand are read on its connection. Reading on another
   * pooled connection, commands queued on a lock could hold every connection while the one
   * holding the lock waits for one more (50 concurrent creates of one email did).
   */
  tx?: Queryable;
}

export interface AppenderOptions {
  /**
   * The key store that seals each person's personal data before it leaves the
   * process (lib/privacy). `null` writes it in clear, as a service that does not
   * encrypt would: for the benchmark's baseline and tests of that case only.
   */
  personalData: Pick<PersonalDataKeys, "writeKeys" | "prepare" | "newSubject"> | null;
  kafka?: Kafka;
}

export function createEventAppender(config: KafkaConfig, { personalData, kafka }: AppenderOptions): EventAppender {
  const producer = createSerialProducer(config, "producer", kafka);
  /**
   * appendMany's own producer, connected on first use: an idempotent producer sends one request
   * at a time, so a command's append queued behind a batch of hundreds of events would wait for
   * that request's ack (createUser p50 395 ms during a 100k-member role deletion on one producer).
   * On a producer of its own, a batch holds up only the next batch.
   */
  let bulkProducer: ReturnType<typeof createSerialProducer> | null = null;
  /** Seals each person's personal data with their key (read on the command's transaction when given). */
  const encode = async <E extends AnyEvent>(events: readonly E[], serde: EventEncoder<E>, options: AppendOptions): Promise<Message[]> => {
    const keys = personalData ? await personalData.writeKeys([...new Set(events.flatMap((e) => serde.personalSubjects(e)))], options.tx) : null;
    const messages: Message[] = [];
    for (let i = 0; i < events.length; i++) {
      // Validating and sealing costs tens of µs an event: a batch of hundreds yields to the event
      // loop every ENCODE_SLICE events, so the other requests of the process are not held behind it.
      if (i > 0 && i % ENCODE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      messages.push(keys ? serde.encode(events[i]!, (subject) => keys.get(subject)!) : serde.encode(events[i]!));
    }
    return messages;
  };
  const unacknowledged = (error: unknown) =>
    new DomainError("unavailable", `The event store (Kafka) did not acknowledge the change, so it was not saved: ${(error as Error).message}`);
  return {
    async append(events, serde, options = {}) {
      if (events.length === 0) return [];
      const first = events[0]!;
      if (events.some((e) => e.aggregateId !== first.aggregateId)) {
        throw new Error("append() takes the events of one aggregate");
      }
      const topic = topicName(serde.streamOf(first.type), config);
      const messages = await encode(events, serde, options);
      try {
        const { partition, baseOffset } = await producer.send(topic, messages);
        return events.map((event, i) => ({
          event,
          topic,
          partition,
          offset: String(baseOffset + BigInt(i)),
        }));
      } catch (error) {
        throw unacknowledged(error);
      }
    },
    async appendMany(events, serde, options = {}) {
      if (events.length === 0) return [];
      const topic = topicName(serde.streamOf(events[0]!.type), config);
      if (events.some((e) => topicName(serde.streamOf(e.type), config) !== topic)) {
        throw new Error("appendMany() takes the events of one stream");
      }
      const messages = await encode(events, serde, options);
      try {
        bulkProducer ??= createSerialProducer(config, "producer-bulk", kafka);
        const landed = await bulkProducer.sendMany(topic, messages);
        return events.map((event, i) => ({ event, topic, partition: landed[i]!.partition, offset: String(landed[i]!.offset) }));
      } catch (error) {
        throw unacknowledged(error);
      }
    },
    async prepare(subjects) {
      await personalData?.prepare(subjects);
    },
    newSubject: () => (personalData ? personalData.newSubject() : Promise.resolve(randomUUID())),
    async disconnect() {
      await Promise.all([producer.disconnect(), bulkProducer?.disconnect()]);
    },
  };
}
