/** The appender on a real broker: concurrent appends share produce requests, and each still learns where its events are. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/infra/ports";
import { kafkaConfig } from "@/lib/config";
import { createEventAppender, createSerialProducer } from "@/lib/kafka/producer";
import { event } from "../fixtures";
import { createTestContext, readLog, type TestContext } from "../integration";
import { serde } from "@/modules";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext("producer");
});
afterAll(async () => {
  await t?.close();
});

/** One to three events of a new user (one aggregate, so one append). */
function userEvents(i: number) {
  const id = randomUUID();
  const created = event("UserCreated", id, 1, { email: `p${i}@example.com`, name: `P ${i}` });
  const updates = Array.from({ length: i % 3 }, (_, k) => event("UserUpdated", id, k + 2, { name: `P ${i}.${k}` }));
  return [created, ...updates];
}

describe("event appender", () => {
  it("100 concurrent appends: each reports the partition and offsets where its own events landed", async () => {
    const batches = Array.from({ length: 100 }, (_, i) => userEvents(i));
    const results = await Promise.all(batches.map((events) => t.appender.append(events, serde)));

    const log = new Map((await readLog(t, [t.topics.users])).map((m) => [`${m.partition}/${m.offset}`, m]));
    const reported = results.flat();
    expect(reported).toHaveLength(batches.flat().length);
    for (const [i, appended] of results.entries()) {
      expect(appended.map((a) => a.event.id)).toEqual(batches[i]!.map((e) => e.id));
      // One aggregate: one partition, consecutive offsets, in order.
      expect(new Set(appended.map((a) => a.partition)).size).toBe(1);
      appended.forEach((a, k) => expect(BigInt(a.offset)).toBe(BigInt(appended[0]!.offset) + BigInt(k)));
      for (const a of appended) {
        const message = log.get(`${a.partition}/${a.offset}`);
        expect(message?.key).toBe(a.event.aggregateId);
        expect(JSON.parse(message?.value?.toString() ?? "null")).toMatchObject({ id: a.event.id });
      }
    }
    // Nothing written twice, nothing reported that is not in the log.
    expect(new Set(reported.map((a) => `${a.partition}/${a.offset}`)).size).toBe(reported.length);
    expect(log.size).toBe(reported.length);
  });

  it("a failed request fails every append in it", async () => {
    // A broker address where nothing listens: every request fails.
    const down = createEventAppender(kafkaConfig({ ...t.env, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` }), { personalData: null });
    try {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => down.append(userEvents(i), serde)));
      for (const r of results) expect(r).toMatchObject({ status: "rejected", reason: { code: "unavailable" } });
    } finally {
      await down.disconnect().catch(() => {});
    }
  });

  it("large sends are not coalesced past the broker's batch size limit", async () => {
    const producer = createSerialProducer(t.config, "producer-large");
    // Four 400 kB messages for one partition: three of them in one record batch would exceed
    // the broker's 1 MiB message.max.bytes and fail all three.
    const value = "x".repeat(400 * 1024);
    try {
      const at = await Promise.all(Array.from({ length: 4 }, () => producer.send(t.topics.roles, [{ partition: 0, key: null, value }])));
      expect(at.map((a) => a.partition)).toEqual([0, 0, 0, 0]);
      expect(new Set(at.map((a) => a.baseOffset)).size).toBe(4);
    } finally {
      await producer.disconnect();
    }
  });

  it("sends that shared a failed request all fail; the next send goes through (on a new producer)", async () => {
    const producer = createSerialProducer(t.config, "producer-test");
    const message = () => ({ key: randomUUID(), value: "{}" });
    try {
      // The first send goes out alone; the four queued behind it share the next request,
      // which fails as a whole because one of them names a topic that does not exist.
      const results = await Promise.allSettled([
        producer.send(t.topics.users, [message()]),
        producer.send(t.topics.users, [message()]),
        producer.send(`${t.topics.users}.missing`, [message()]),
        producer.send(t.topics.users, [message()]),
        producer.send(t.topics.roles, [message()]),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "rejected", "rejected"]);
      const key = randomUUID();
      const after = await producer.send(t.topics.users, [{ key, value: "1" }, { key, value: "2" }]);
      expect(after.baseOffset).toBeGreaterThanOrEqual(0n);
    } finally {
      await producer.disconnect();
    }
  });
});
