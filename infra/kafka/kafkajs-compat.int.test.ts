/**
 * Standing evidence that kafkajs 2.2.4 works against the Kafka version pinned in
 * infra/kafka/pom.xml (KAFKA_VERSION) for every client feature this project uses.
 * See infra/kafka/README.md. Starts its own broker on free ports under a temp dir.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigResourceTypes,
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Producer,
} from "kafkajs";
import { KAFKA_VERSION, startKafka, type KafkaHandle } from "./broker";
import { freePorts } from "../ports";

const TOPIC = "compat.events";
const GROUP = "compat-group";
const PARTITIONS = 3;
const PER_PRODUCER = 30;

let dataDir: string;
let broker: KafkaHandle;
let kafka: Kafka;
let admin: Admin;
const clients: Array<{ disconnect(): Promise<void> }> = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "kafkajs-compat-"));
  const [port, controllerPort] = await freePorts(2);
  broker = await startKafka({ dataDir, port: port!, controllerPort: controllerPort! });
  kafka = new Kafka({ clientId: "compat-test", brokers: broker.brokers, logLevel: logLevel.ERROR });
  admin = kafka.admin();
  await admin.connect();
}, 240_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

function track<T extends { disconnect(): Promise<void> }>(c: T): T {
  clients.push(c);
  return c;
}

async function highWatermarks(): Promise<Map<number, string>> {
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  return new Map(offsets.map((o) => [o.partition, o.high]));
}

async function committed(): Promise<Map<number, string>> {
  const [entry] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  expect(entry?.topic).toBe(TOPIC);
  return new Map(entry!.partitions.map((p) => [p.partition, p.offset]));
}

/** Runs an eachBatch consumer (manual commits) until `until` says stop; returns what it saw. */
async function consume(
  consumer: Consumer,
  until: (seen: Array<{ partition: number; offset: string; value: string }>) => boolean,
  onBatch?: (seen: Array<{ partition: number; offset: string; value: string }>, payload: EachBatchPayload) => Promise<void>,
  timeoutMs = 60_000,
): Promise<Array<{ partition: number; offset: string; value: string }>> {
  const seen: Array<{ partition: number; offset: string; value: string }> = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch, resolveOffset, heartbeat } = payload;
      for (const m of batch.messages) {
        seen.push({ partition: batch.partition, offset: m.offset, value: m.value?.toString() ?? "" });
        resolveOffset(m.offset);
      }
      if (batch.messages.length > 0) {
        const last = batch.messages[batch.messages.length - 1]!;
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
        ]);
      }
      await heartbeat();
      if (onBatch) await onBatch(seen, payload);
      if (until(seen)) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    finished,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`consumer timed out; saw ${seen.length} messages`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return seen;
}

describe(`kafkajs 2.2.4 against Kafka ${KAFKA_VERSION}`, () => {
  it("admin.createTopics with configs, describeConfigs, fetchTopicMetadata", async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: TOPIC,
          numPartitions: PARTITIONS,
          replicationFactor: 1,
          configEntries: [
            { name: "retention.ms", value: "-1" },
            { name: "retention.bytes", value: "-1" },
            { name: "min.insync.replicas", value: "1" },
          ],
        },
      ],
    });
    expect(created).toBe(true);
    expect(await admin.listTopics()).toContain(TOPIC);

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: TOPIC,
          configNames: ["retention.ms", "retention.bytes", "min.insync.replicas", "cleanup.policy"],
        },
      ],
    });
    const resource = described.resources[0]!;
    expect(resource.errorCode).toBe(0);
    const config = Object.fromEntries(resource.configEntries.map((e) => [e.configName, e.configValue]));
    expect(config).toMatchObject({
      "retention.ms": "-1",
      "retention.bytes": "-1",
      "min.insync.replicas": "1",
      "cleanup.policy": "delete",
    });

    const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    expect(metadata.topics).toHaveLength(1);
    expect(metadata.topics[0]!.name).toBe(TOPIC);
    expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    for (const p of metadata.topics[0]!.partitions) {
      expect(p.leader).toBeGreaterThanOrEqual(0);
      expect(p.isr).toHaveLength(1);
    }
  });

  it("idempotent producers (maxInFlightRequests 1 and 5, acks -1) and fetchTopicOffsets", async () => {
    for (const maxInFlightRequests of [1, 5]) {
      const producer: Producer = track(kafka.producer({ idempotent: true, maxInFlightRequests }));
      await producer.connect();
      const results = await Promise.all(
        Array.from({ length: PER_PRODUCER }, (_, i) =>
          producer.send({
            topic: TOPIC,
            acks: -1,
            messages: [{ key: `user-${i % 7}`, value: `inflight${maxInFlightRequests}-${i}` }],
          }),
        ),
      );
      for (const r of results.flat()) expect(r.errorCode).toBe(0);
      // a batch send too, as the event store appends several events at once
      const batch = await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: [
          { key: "batch", value: `inflight${maxInFlightRequests}-batch-a` },
          { key: "batch", value: `inflight${maxInFlightRequests}-batch-b` },
        ],
      });
      expect(batch).toHaveLength(1);
      expect(batch[0]!.errorCode).toBe(0);
      await producer.disconnect();
    }

    const offsets = await admin.fetchTopicOffsets(TOPIC);
    expect(offsets).toHaveLength(PARTITIONS);
    const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
    expect(total).toBe(2 * (PER_PRODUCER + 2));
    for (const o of offsets) expect(o.low).toBe("0");
  });

  it("consumer group: eachBatch with manual commitOffsets, seek, admin.fetchOffsets", async () => {
    const highs = await highWatermarks();
    const total = [...highs.values()].reduce((s, h) => s + Number(h), 0);
    const p0 = Number(highs.get(0));
    expect(p0).toBeGreaterThan(1);

    const consumer = track(kafka.consumer({ groupId: GROUP }));
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });

    // First pass: everything once; then seek partition 0 back to offset 1 and expect a replay of it.
    let sought = false;
    const seen = await consume(
      consumer,
      (s) => sought && s.length >= total + (p0 - 1),
      async (soFar) => {
        if (!sought && soFar.length >= total) {
          sought = true;
          consumer.seek({ topic: TOPIC, partition: 0, offset: "1" });
        }
      },
    );

    const firstPass = seen.slice(0, total);
    expect(new Set(firstPass.map((m) => `${m.partition}:${m.offset}`)).size).toBe(total);
    const replay = seen.slice(total);
    expect(replay.every((m) => m.partition === 0)).toBe(true);
    expect(replay.map((m) => Number(m.offset))).toEqual(Array.from({ length: p0 - 1 }, (_, i) => i + 1));

    const commits = await committed();
    for (const [partition, high] of highs) expect(commits.get(partition)).toBe(high);

    await consumer.disconnect();
  });

  it("admin.setOffsets / resetOffsets on an idle group, honoured by the next consumer", async () => {
    const highs = await highWatermarks();
    const total = [...highs.values()].reduce((s, h) => s + Number(h), 0);

    await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: "1" }] });
    let commits = await committed();
    expect(commits.get(0)).toBe("1");
    expect(commits.get(1)).toBe(highs.get(1));

    // kafkajs commits its sentinel -2 (= earliest) and leaves the resolution to the next consumer...
    await admin.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true });
    commits = await committed();
    for (const partition of highs.keys()) expect(commits.get(partition)).toBe("-2");
    // ...or to fetchOffsets({ resolveOffsets: true }), which turns it into real offsets and commits them.
    const [resolved] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC], resolveOffsets: true });
    expect(resolved!.partitions.map((p) => p.offset)).toEqual(["0", "0", "0"]);
    commits = await committed();
    for (const partition of highs.keys()) expect(commits.get(partition)).toBe("0");

    // A new member of the group starts from the committed (reset) offsets, not from the end.
    const consumer = track(kafka.consumer({ groupId: GROUP }));
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: false });
    const seen = await consume(consumer, (s) => s.length >= total);
    expect(seen).toHaveLength(total);
    await consumer.disconnect();

    commits = await committed();
    for (const [partition, high] of highs) expect(commits.get(partition)).toBe(high);
  });

  it("admin.deleteTopics", async () => {
    await admin.deleteTopics({ topics: [TOPIC], timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while ((await admin.listTopics()).includes(TOPIC)) {
      if (Date.now() > deadline) throw new Error(`${TOPIC} still listed 30 s after deleteTopics`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await admin.listTopics()).not.toContain(TOPIC);
  });
}, 180_000);
