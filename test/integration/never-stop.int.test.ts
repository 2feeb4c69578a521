/**
 * The projector never stops silently (issue 10), on the real broker and PostgreSQL:
 * - a burst of large malformed messages is dead-lettered whole, and the next valid event projected;
 * - a DLQ topic that cannot take a message (limit lowered, topic deleted) holds nothing up;
 * - a consumer that crashes on a non-retriable error is restarted, and shown crashed meanwhile;
 * - a lock held elsewhere fails the batch (lock timeout), recorded on the partition, then projects;
 * - a batch failing among the batches of one fetch (one transaction) fails alone: the others project;
 * - a batch fetched past the stored position is refused and re-read from that position;
 * - an event on another partition than its key's murmur2 partition is dead-lettered;
 * - text PostgreSQL cannot store (half a surrogate pair) is dead-lettered, not retried forever.
 */
import { randomUUID } from "node:crypto";
import { KafkaJSNonRetriableError, type Producer } from "kafkajs";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LONE_SURROGATE } from "@/lib/events/codec";
import { keyPartition } from "@/lib/kafka/partitioner";
import { deadLetterTopic, ensureTopics } from "@/lib/kafka/topics";
import type { Projector } from "@/lib/projection/projector";
import { createUser } from "@/modules/users/application/user-commands";
import { createTestContext, eventually, externalUserCreated, readLog, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";
import { app } from "@/modules";

let t: TestContext;
let producer: Producer;
const running: Projector[] = [];

beforeAll(async () => {
  t = await createTestContext("never_stop");
  producer = t.kafka.producer();
  await producer.connect();
});
afterEach(async () => {
  // Each test starts its own projector; one that failed must not share the group with the next.
  for (const p of running.splice(0)) await p.stop().catch(() => {});
});
afterAll(async () => {
  await producer?.disconnect();
  await t?.close();
});

async function projector(options: Parameters<typeof startProjector>[1] = {}) {
  const p = await startProjector(t, options);
  running.push(p);
  return p;
}

/** The broker's default message.max.bytes (the test broker keeps it). */
const BROKER_LIMIT = 1_048_588;

/** A uuid whose murmur2 partition among the test topics' partitions is `partition`. */
function idOnPartition(partition: number): string {
  for (;;) {
    const id = randomUUID();
    if (keyPartition(id, t.config.KAFKA_PARTITIONS) === partition) return id;
  }
}

const deadLetterCount = async () => t.db.deadLetter.count();

/** alterConfigs replaces a topic's whole configuration: keep its infinite retention. */
async function setMaxMessageBytes(topic: string, bytes: number) {
  const entries = { "max.message.bytes": String(bytes), "retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete" };
  await t.admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: 2, name: topic, configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })) }],
  });
}

describe("a burst of large malformed messages", () => {
  it("is dead-lettered whole, concentrated on one partition and spread over all, and the next valid event is projected", async () => {
    const p = await projector();
    const before = await deadLetterCount();
    // Every size up to the broker's limit: mostly 2 kB, one in sixteen 200 kB, a few of
    // 500 kB, 900 kB and just under the limit (too large for the DLQ topic with its headers).
    const sizes: number[] = Array.from({ length: 2_000 }, (_, i) => (i % 16 === 15 ? 200_000 : 2_000));
    sizes.push(500_000, 900_000, BROKER_LIMIT - 200, BROKER_LIMIT - 200);
    const junk = (n: number, i: number) => `{"burst":${i},"pad":"${"x".repeat(Math.max(0, n - 30))}`; // not JSON: unterminated
    // Half on partition 0 (one partition's fetch fills with them), half spread by key.
    const messages = sizes.map((n, i) => ({
      ...(i % 2 === 0 ? { partition: 0 } : {}),
      key: `burst-${i}`,
      value: junk(n, i),
    }));
    // Published as one burst, in requests the broker takes (a partition's record batch under its limit).
    let request: typeof messages = [];
    let bytes = 0;
    const sends: Promise<unknown>[] = [];
    for (const m of messages) {
      if (request.length && bytes + m.value.length > 700_000) {
        sends.push(producer.send({ topic: t.topics.users, acks: -1, messages: request }));
        request = [];
        bytes = 0;
      }
      request.push(m);
      bytes += m.value.length;
    }
    sends.push(producer.send({ topic: t.topics.users, acks: -1, messages: request }));
    await Promise.all(sends);

    const valid = await createUser(t.deps, t.ctx, { email: "after-the-burst@example.com", name: "After" });
    await waitUntilCaughtUp(t, 120_000);
    expect(await t.db.user.findUnique({ where: { id: valid.aggregateId } })).not.toBeNull();
    expect((await deadLetterCount()) - before).toBe(messages.length);
    expect(p.crashes).toBe(0);

    // The relay copies every one to users.dlq; the two too large for it go without their value.
    const letters = await eventually(
      () => t.db.deadLetter.findMany({ where: { topic: t.topics.users }, select: { dlqPublishedAt: true, reason: true, value: true } }),
      (rows) => rows.every((r) => r.dlqPublishedAt !== null),
      60_000,
    );
    expect(letters.filter((r) => r.dlqPublishedAt === null)).toEqual([]);
    const trimmed = letters.filter((r) => r.reason.includes("lacks its value"));
    expect(trimmed).toHaveLength(2);
    expect(trimmed.map((r) => r.value!.length > BROKER_LIMIT - 300)).toEqual([true, true]); // the row keeps the whole value
    const copies = await readLog(t, [deadLetterTopic(t.topics.users)]);
    expect(copies).toHaveLength(messages.length);
    expect(copies.filter((c) => c.headers["dlq-value-omitted"] !== undefined)).toHaveLength(2);
    // Each copy names its original, once: nothing was copied twice by a retried batch.
    expect(new Set(copies.map((c) => `${c.headers["dlq-original-partition"]}/${c.headers["dlq-original-offset"]}`)).size).toBe(messages.length);
  }, 240_000);
});

describe("text PostgreSQL cannot store", () => {
  it("is dead-lettered, not retried forever: half a surrogate pair in an event, or in a parse error's reason", async () => {
    await projector();
    const id = idOnPartition(1);
    // Not JSON, opening with a 4-byte UTF-8 character: V8's parse error quotes half of it.
    const garbage = Buffer.from([0xf3, 0x94, 0xa6, 0x9b, 0x01, 0x27, 0x32, 0x81]);
    const halfPair = JSON.stringify(externalUserCreated(id, "half-pair@example.com", "Half \ud800 pair"));
    await producer.send({
      topic: t.topics.users,
      acks: -1,
      messages: [
        { partition: 1, key: "garbage", value: garbage },
        { key: id, value: halfPair },
      ],
    });
    const after = randomUUID();
    const valid = externalUserCreated(after, "after-half-pair@example.com");
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ partition: keyPartition(after, t.config.KAFKA_PARTITIONS), key: after, value: JSON.stringify(valid) }] });
    await waitUntilCaughtUp(t);
    expect(await t.db.user.findUnique({ where: { id: after } })).not.toBeNull();
    expect(await t.db.user.findUnique({ where: { id } })).toBeNull();
    const letters = await t.db.deadLetter.findMany({ where: { key: { in: ["garbage", id] } }, orderBy: { id: "asc" } });
    expect(letters.map((l) => l.reason)).toEqual([expect.stringMatching(/^not JSON/), expect.stringMatching(/surrogate/)]);
    expect(letters[0]!.reason.match(LONE_SURROGATE)).toBeNull(); // the half character became U+FFFD
  }, 60_000);
});

describe("a DLQ topic that cannot take a message", () => {
  it("holds no projection up; the failure is kept on the row and retried until the topic takes it", async () => {
    const p = await projector();
    const admin = t.admin;
    // users.dlq refuses anything over 2 kB; roles.dlq is gone.
    await setMaxMessageBytes(deadLetterTopic(t.topics.users), 2_048);
    await admin.deleteTopics({ topics: [deadLetterTopic(t.topics.roles)] });

    const big = `{"too":"big","pad":"${"y".repeat(10_000)}`;
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: "dlq-small-topic", value: big }] });
    await producer.send({ topic: t.topics.roles, acks: -1, messages: [{ key: "dlq-gone-topic", value: "{not json" }] });
    const valid = await createUser(t.deps, t.ctx, { email: "dlq-trouble@example.com", name: "Still projected" });
    await waitUntilCaughtUp(t, 30_000);
    expect(await t.db.user.findUnique({ where: { id: valid.aggregateId } })).not.toBeNull();

    // The oversized one goes to users.dlq without its value, and its reason says so.
    const usersLetter = await eventually(
      () => t.db.deadLetter.findFirstOrThrow({ where: { key: "dlq-small-topic" } }),
      (row) => row.dlqPublishedAt !== null,
    );
    expect(usersLetter.reason).toMatch(/lacks its value \(10,0\d\d bytes\) is too large for .*users\.dlq/);
    expect(usersLetter.value).toBe(big);
    // The one for the deleted topic waits, with the error and its attempts on the row.
    const rolesLetter = await eventually(
      () => t.db.deadLetter.findFirstOrThrow({ where: { key: "dlq-gone-topic" } }),
      (row) => row.dlqAttempts >= 1,
      30_000,
    );
    expect(rolesLetter.dlqPublishedAt).toBeNull();
    expect(rolesLetter.dlqLastError).toBeTruthy();
    expect(p.crashes).toBe(0);

    // Projection goes on meanwhile.
    const later = await createUser(t.deps, t.ctx, { email: "dlq-trouble-2@example.com", name: "Later" });
    await waitUntilCaughtUp(t, 30_000);
    expect(await t.db.user.findUnique({ where: { id: later.aggregateId } })).not.toBeNull();

    // Once the topic exists again, the relay's next attempt copies it.
    await ensureTopics(admin, t.config, app.streams);
    const copied = await eventually(
      () => t.db.deadLetter.findFirstOrThrow({ where: { key: "dlq-gone-topic" } }),
      (row) => row.dlqPublishedAt !== null,
      90_000,
    );
    expect(copied.dlqPublishedAt).not.toBeNull();
    await setMaxMessageBytes(deadLetterTopic(t.topics.users), BROKER_LIMIT);
  }, 150_000);
});

describe("a consumer that crashes", () => {
  it("is restarted with backoff, shown crashed with its error meanwhile, and projects what came after", async () => {
    let crashOnce = true;
    const p = await projector({
      restartBackoffMs: 4_000,
      heartbeatIntervalMs: 500,
      onBatch: () => {
        if (!crashOnce) return;
        crashOnce = false;
        // What kafkajs does not restart: a non-retriable error out of the batch handler.
        throw new KafkaJSNonRetriableError("induced non-retriable failure");
      },
    });
    await createUser(t.deps, t.ctx, { email: "crash-1@example.com", name: "Crash 1" });
    const row = await eventually(
      () => t.db.projectorInstance.findUniqueOrThrow({ where: { instanceId: p.instanceId } }),
      (r) => r.consumerState === "crashed",
    );
    expect(row).toMatchObject({ consumerState: "crashed", assignment: {}, restarts: 1 });
    expect(row.lastError).toContain("induced non-retriable failure");
    const second = await createUser(t.deps, t.ctx, { email: "crash-2@example.com", name: "Crash 2" });
    await waitUntilCaughtUp(t, 40_000);
    expect(await t.db.user.findUnique({ where: { id: second.aggregateId } })).not.toBeNull();
    expect(p.crashes).toBe(1);
    const after = await eventually(
      () => t.db.projectorInstance.findUniqueOrThrow({ where: { instanceId: p.instanceId } }),
      (r) => r.consumerState === "running" && Object.keys(r.assignment as object).length > 0,
    );
    expect(after.consumerState).toBe("running");
  }, 90_000);
});

describe("a lock held elsewhere on a read-model table", () => {
  it("fails the batch after the lock timeout, records why on the partition, and projects once the lock is gone", async () => {
    await projector();
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      // Reads go on (EXCLUSIVE lets ACCESS SHARE through); the projector's inserts wait.
      await blocker.query("BEGIN; LOCK TABLE user_events IN EXCLUSIVE MODE");
      const id = idOnPartition(0);
      await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: id, value: JSON.stringify(externalUserCreated(id, "locked-out@example.com")) }] });
      const partition0 = { consumerGroup: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, partition: 0 };
      const failure = await eventually(
        () => t.db.consumerPartitionError.findFirst({ where: partition0 }),
        (row) => row !== null && /lock timeout/.test(row.error),
        45_000,
      );
      expect(failure?.error).toBe("PostgreSQL 55P03: canceling statement due to lock timeout");
      await blocker.query("COMMIT");
      await waitUntilCaughtUp(t, 60_000);
      expect(await t.db.user.findUnique({ where: { id } })).toMatchObject({ email: "locked-out@example.com" });
      // The partition moved on: its failure is forgotten.
      expect(await eventually(() => t.db.consumerPartitionError.findFirst({ where: partition0 }), (row) => row === null)).toBeNull();
    } finally {
      await blocker.end();
    }
  }, 120_000);
});

describe("a batch fetched past the stored position", () => {
  it("is refused, and the partition is re-read from the stored position: nothing in between is lost", async () => {
    await projector();
    const partition = 1;
    const publish = async (email: string) => {
      const id = idOnPartition(partition);
      await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: id, value: JSON.stringify(externalUserCreated(id, email)) }] });
      return id;
    };
    const a = await publish("gap-a@example.com");
    await waitUntilCaughtUp(t);
    const position = await t.db.projectionOffset.findUniqueOrThrow({
      where: { consumerGroup_topic_partition: { consumerGroup: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, partition } },
    });
    const b = await publish("gap-b@example.com");
    const c = await publish("gap-c@example.com");
    await waitUntilCaughtUp(t);
    // PostgreSQL comes back from a backup taken before b and c were projected; the running
    // consumer still fetches from where it was in memory.
    await t.db.$transaction([
      t.db.userEvent.deleteMany({ where: { userId: { in: [b, c] } } }),
      t.db.user.deleteMany({ where: { id: { in: [b, c] } } }),
      t.db.$executeRaw`DELETE FROM streams WHERE id = ANY(${[b, c]}::uuid[])`,
      t.db.projectionOffset.update({
        where: { consumerGroup_topic_partition: { consumerGroup: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, partition } },
        data: { nextOffset: position.nextOffset },
      }),
    ]);
    const d = await publish("gap-d@example.com");
    await waitUntilCaughtUp(t);
    const users = await t.db.user.findMany({ where: { id: { in: [a, b, c, d] } }, select: { email: true } });
    expect(users.map((u) => u.email).sort()).toEqual(["gap-a@example.com", "gap-b@example.com", "gap-c@example.com", "gap-d@example.com"]);
  }, 60_000);

  it("with no stored position at all (the read model wiped, or restored from before the partition's first batch), is re-read from the log's start, running or restarted", async () => {
    let p = await projector();
    const partition = 2;
    const publish = async (email: string) => {
      const id = idOnPartition(partition);
      await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: id, value: JSON.stringify(externalUserCreated(id, email)) }] });
      return id;
    };
    /** PostgreSQL as a backup taken before the partition's first batch has it: none of `ids`, no position for it. */
    const forget = (ids: string[]) =>
      t.db.$transaction([
        t.db.userEvent.deleteMany({ where: { userId: { in: ids } } }),
        t.db.user.deleteMany({ where: { id: { in: ids } } }),
        t.db.$executeRaw`DELETE FROM streams WHERE id = ANY(${ids}::uuid[])`,
        t.db.projectionOffset.deleteMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, partition } }),
      ]);
    const emails = async (ids: string[]) =>
      (await t.db.user.findMany({ where: { id: { in: ids } }, select: { email: true } })).map((u) => u.email).sort();

    // Running: the consumer fetches on from its position in memory, past everything PostgreSQL lost.
    const a = await publish("start-a@example.com");
    const b = await publish("start-b@example.com");
    await waitUntilCaughtUp(t);
    await forget([a, b]);
    const c = await publish("start-c@example.com");
    await waitUntilCaughtUp(t);
    expect(await emails([a, b, c])).toEqual(["start-a@example.com", "start-b@example.com", "start-c@example.com"]);

    // Restarted: Kafka's committed offset for the group is past everything PostgreSQL lost.
    await p.stop();
    await forget([a, b, c]);
    p = await projector();
    await waitUntilCaughtUp(t);
    expect(await emails([a, b, c])).toEqual(["start-a@example.com", "start-b@example.com", "start-c@example.com"]);
  }, 90_000);
});

describe("an event on another partition than its key's", () => {
  it("is dead-lettered with a reason naming the murmur2 partitioner; on its own partition it is applied", async () => {
    await projector();
    const home = 2;
    const id = idOnPartition(home);
    const event = externalUserCreated(id, "crc32-producer@example.com");
    // What a librdkafka producer with its default (crc32) partitioner may do.
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ partition: 3, key: id, value: JSON.stringify(event) }] });
    await waitUntilCaughtUp(t);
    expect(await t.db.user.findUnique({ where: { id } })).toBeNull();
    const letter = await t.db.deadLetter.findFirstOrThrow({ where: { key: id } });
    expect(letter).toMatchObject({ partition: 3 });
    expect(letter.reason).toMatch(/on partition 3, but its key's murmur2 partition is 2 of 4.*murmur2/);
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: id, value: JSON.stringify(event) }] });
    await waitUntilCaughtUp(t);
    expect(await t.db.user.findUnique({ where: { id } })).toMatchObject({ email: "crc32-producer@example.com" });
  }, 60_000);
});

describe("the partition batches of one fetch", () => {
  it("share a transaction; one that fails (a user's row locked elsewhere) fails alone, recorded on its partition, and the others project", async () => {
    let transactions = 0;
    let batches = 0;
    const partitions = t.config.KAFKA_PARTITIONS;
    const created = (p: number) => {
      const id = idOnPartition(p);
      return { key: id, value: JSON.stringify(externalUserCreated(id, `fetch-${p}-${id.slice(0, 8)}@example.com`)) };
    };
    // One event on every partition, there before the projector starts: its first fetch holds them
    // all. (Sent to a running projector, a fetch waiting on the broker may be answered as soon as
    // the first partition has its event, the rest coming in later fetches.) Each of its batches
    // asks the topic's partition count first: they must share one request, answered in one turn.
    await producer.send({ topic: t.topics.users, acks: -1, messages: Array.from({ length: partitions }, (_, p) => created(p)) });
    await projector({
      onStatement: (text) => {
        if (text.includes("set_config('lock_timeout'")) transactions += 1;
      },
      onBatch: () => {
        batches += 1;
      },
    });
    await waitUntilCaughtUp(t);
    // A batch is told (onBatch) after its commit, the offset commit to Kafka and a heartbeat: the
    // positions the wait above reads come first, so the count may still be rising.
    await expect.poll(() => batches, { timeout: 10_000 }).toBeGreaterThanOrEqual(partitions);
    expect(transactions).toBeLessThan(batches);

    const locked = idOnPartition(0);
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: locked, value: JSON.stringify(externalUserCreated(locked, "row-locked@example.com")) }] });
    await waitUntilCaughtUp(t);
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [locked]);
      const update = { ...externalUserCreated(locked, "row-locked@example.com"), id: randomUUID(), type: "UserUpdated", sequence: 2, payload: { name: "Unlocked" } };
      const others = Array.from({ length: partitions - 1 }, (_, i) => created(i + 1));
      await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: locked, value: JSON.stringify(update) }, ...others] });
      // The batch of partition 0 waits for the row until its lock timeout; the others do not wait for it.
      const otherIds = others.map((m) => m.key);
      expect(await eventually(() => t.db.user.count({ where: { id: { in: otherIds } } }), (n) => n === otherIds.length, 30_000)).toBe(otherIds.length);
      const failure = await eventually(
        () => t.db.consumerPartitionError.findFirst({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, partition: 0 } }),
        (row) => row !== null && /lock timeout/.test(row.error),
        45_000,
      );
      expect(failure?.error).toBe("PostgreSQL 55P03: canceling statement due to lock timeout");
      const elsewhere = await t.db.consumerPartitionError.findMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID, partition: { not: 0 } } });
      expect(elsewhere).toEqual([]);
      expect(await t.db.user.findUniqueOrThrow({ where: { id: locked } })).toMatchObject({ version: 1 });
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      await blocker.end();
    }
    await waitUntilCaughtUp(t, 60_000);
    expect(await t.db.user.findUniqueOrThrow({ where: { id: locked } })).toMatchObject({ name: "Unlocked", version: 2 });
  }, 120_000);
});
