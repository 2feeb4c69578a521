/** The projector on the real broker: idempotence, other publishers, dead letters. */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { applyBatch, applyBatches, type BatchInput } from "@/lib/projection/apply-batch";
import { keyPartition } from "@/lib/kafka/partitioner";
import { inSqlTransaction, sqlPoolOf } from "@/lib/sql-tx";
import type { Projector } from "@/lib/projection/projector";
import { createRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, updateUser } from "@/modules/users/application/user-commands";
import {
  createTestContext, expectModelEqualsLog,
  eventually,
  externalUserCreated,
  readLog,
  readModel,
  sorted,
  startProjector,
  waitUntilCaughtUp,
  type TestContext,
} from "../integration";
import { app } from "@/modules";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("projector");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

/** Everything the projector writes, to compare before and after. */
async function snapshot() {
  const [model, timeline, roleTimeline, offsets, deadLetters] = await Promise.all([
    readModel(t),
    t.db.userEvent.findMany({ orderBy: { eventId: "asc" } }),
    t.db.roleEvent.findMany({ orderBy: { eventId: "asc" } }),
    t.db.projectionOffset.findMany({ orderBy: [{ topic: "asc" }, { partition: "asc" }] }),
    t.db.deadLetter.count(),
  ]);
  return { users: sorted(model.users), roles: sorted(model.roles), timeline, roleTimeline, offsets, deadLetters };
}

describe("projector", () => {
  it("changes nothing when the same batch is delivered again", async () => {
    const role = await createRole(t.deps, t.ctx, { name: "ops" });
    for (const n of [1, 2, 3]) {
      const u = await createUser(t.deps, t.ctx, { email: `twice${n}@example.com`, name: `Twice ${n}` });
      await assignRole(t.deps, t.ctx, { userId: u.aggregateId, roleId: role.aggregateId });
      await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 2, name: `Twice ${n}b` });
    }
    await waitUntilCaughtUp(t);
    const before = await snapshot();
    expect(before.timeline.length).toBe(9);

    // Redeliver every partition's messages, as Kafka does after a crash between
    // the database commit and the offset commit.
    const log = await readLog(t);
    const partitions = new Map<string, typeof log>();
    for (const m of log) partitions.set(`${m.topic}/${m.partition}`, [...(partitions.get(`${m.topic}/${m.partition}`) ?? []), m]);
    const pool = sqlPoolOf(t.db, { max: 1, connectionTimeoutMs: 10_000 });
    onTestFinished(() => pool.end());
    for (const messages of partitions.values()) {
      const first = messages[0]!;
      const outcome = await inSqlTransaction(pool, (tx) =>
        applyBatch(
          tx,
          {
            group: t.config.PROJECTOR_GROUP_ID,
            topic: first.topic,
            partition: first.partition,
            stream: first.topic === t.topics.users ? "users" : "roles",
            app,
            personalData: t.personalData,
            partitions: t.config.KAFKA_PARTITIONS,
            messages: messages.map((m) => ({
              offset: m.offset,
              key: m.key === null ? null : Buffer.from(m.key),
              value: m.value,
            })),
          },
        ),
      );
      expect(outcome.applied).toEqual([]);
      expect(outcome.skipped).toBe(messages.length);
    }
    expect(await snapshot()).toEqual(before);

    // Even with the stored positions lost, the event ids keep a replay from applying anything twice.
    await projector.stop();
    await t.db.projectionOffset.deleteMany();
    await t.admin.resetOffsets({ groupId: t.config.PROJECTOR_GROUP_ID, topic: t.topics.users, earliest: true });
    await t.admin.resetOffsets({ groupId: t.config.PROJECTOR_GROUP_ID, topic: t.topics.roles, earliest: true });
    projector = await startProjector(t);
    await waitUntilCaughtUp(t);
    const after = await snapshot();
    expect({ ...after, offsets: [] }).toEqual({ ...before, offsets: [] });
    expect(after.offsets.map((o) => o.nextOffset)).toEqual(before.offsets.map((o) => o.nextOffset));
  });

  it("projects an event published by another service with a plain kafkajs producer", async () => {
    const u = await createUser(t.deps, t.ctx, { email: "external@example.com", name: "External" });
    await waitUntilCaughtUp(t);
    // What an auth service would do, knowing only the documented envelope.
    const producer = t.kafka.producer();
    await producer.connect();
    const login = {
      id: randomUUID(),
      type: "UserLoggedIn",
      schemaVersion: 1,
      aggregateId: u.aggregateId,
      sequence: 2,
      occurredAt: new Date().toISOString(),
      actor: { kind: "service", name: "auth-service" },
      correlationId: "auth-req-42",
      causationId: null,
      payload: { ip: "198.51.100.4", userAgent: "Mobile Safari" },
    };
    await producer.send({
      topic: t.topics.users,
      messages: [{ key: u.aggregateId, value: JSON.stringify(login), headers: { type: "UserLoggedIn", schemaVersion: "1" } }],
    });
    await producer.disconnect();
    await waitUntilCaughtUp(t);

    const row = await t.db.userEvent.findUniqueOrThrow({ where: { eventId: login.id } });
    expect(row).toMatchObject({ type: "UserLoggedIn", actor: { kind: "service", name: "auth-service" }, correlationId: "auth-req-42" });
    expect((await t.db.user.findUniqueOrThrow({ where: { id: u.aggregateId } })).lastLoginAt?.toISOString()).toBe(login.occurredAt);
    // The command side's head caught up with the log, so the next edit gets sequence 3.
    const next = await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 2, name: "External 2" });
    expect(next.events[0]?.event.sequence).toBe(3);
  });

  it("neither waits for nor locks a head the command side has already advanced", async () => {
    const u = await createUser(t.deps, t.ctx, { email: "busy-head@example.com", name: "Busy" });
    await waitUntilCaughtUp(t);
    // The command commits its head at version 2 and its event waits in Kafka for the projector.
    await projector.stop();
    await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 1, name: "Busy 2" });
    // Another command on the same user now holds the head, as one waiting for the broker's ack does.
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT version FROM streams WHERE id = $1 FOR UPDATE", [u.aggregateId]);
      projector = await startProjector(t);
      // The head is already at the event's version: the batch has nothing to repair, so nothing to wait for.
      await waitUntilCaughtUp(t, 15_000);
      expect(await t.db.user.findUniqueOrThrow({ where: { id: u.aggregateId } })).toMatchObject({ name: "Busy 2", version: 2 });
      expect(await t.db.consumerPartitionError.count()).toBe(0);
    } finally {
      await blocker.query("ROLLBACK").catch(() => {});
      await blocker.end();
    }
  });

  it("applies an event republished beside its twin in one batch once, dead-lettering nothing", async () => {
    const userId = randomUUID();
    const created = externalUserCreated(userId, "twin@example.com", "Twin");
    const producer = t.kafka.producer();
    await producer.connect();
    // A retried produce can leave the same event twice, side by side, in one batch.
    const message = { key: userId, value: JSON.stringify(created) };
    await producer.send({ topic: t.topics.users, messages: [message, message] });
    await producer.disconnect();
    await waitUntilCaughtUp(t);
    expect(await t.db.user.findUniqueOrThrow({ where: { id: userId } })).toMatchObject({ name: "Twin", version: 1 });
    expect(await t.db.userEvent.count({ where: { userId } })).toBe(1);
    expect(await t.db.deadLetter.count({ where: { key: userId } })).toBe(0);
  });

  it("dead-letters what it cannot read, with the reason, and goes on with the next message", async () => {
    const u = await createUser(t.deps, t.ctx, { email: "dlq@example.com", name: "Before" });
    await waitUntilCaughtUp(t);
    const producer = t.kafka.producer();
    await producer.connect();
    const valid = {
      id: randomUUID(),
      type: "UserUpdated",
      schemaVersion: 1,
      aggregateId: u.aggregateId,
      sequence: 2,
      occurredAt: new Date().toISOString(),
      actor: { kind: "service", name: "importer" },
      correlationId: randomUUID(),
      causationId: null,
      payload: { name: "After" },
    };
    // Same key, so the same partition, in this order: garbage, a bad payload, then a valid event.
    await producer.send({
      topic: t.topics.users,
      messages: [
        { key: u.aggregateId, value: "{not json" },
        { key: u.aggregateId, value: JSON.stringify({ ...valid, id: randomUUID(), payload: { email: "nope" } }) },
        { key: u.aggregateId, value: JSON.stringify(valid) },
      ],
    });
    await producer.disconnect();
    await waitUntilCaughtUp(t);

    expect(await t.db.user.findUniqueOrThrow({ where: { id: u.aggregateId } })).toMatchObject({ name: "After", version: 2 });
    const letters = await t.db.deadLetter.findMany({ where: { key: u.aggregateId }, orderBy: { offset: "asc" } });
    expect(letters.map((l) => l.reason)).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/^invalid UserUpdated payload: email/),
    ]);
    // The relay copies them to the DLQ topic after the batch's commit, on its own schedule.
    const mine = await eventually(
      async () => (await readLog(t, [`${t.topics.users}.dlq`])).filter((m) => m.key === u.aggregateId),
      (copies) => copies.length === 2,
    );
    expect(mine).toHaveLength(2);
    expect(mine[0]?.value?.toString()).toBe("{not json");
    expect(mine[0]?.headers).toMatchObject({
      "dlq-reason": letters[0]?.reason,
      "dlq-original-topic": t.topics.users,
      "dlq-original-offset": String(letters[0]?.offset),
      "dlq-original-partition": String(letters[0]?.partition),
    });
  });

  it("leaves a read model equal to the fold of the whole log", async () => {
    await expectModelEqualsLog(t);
  });

  it("commits to Kafka, after the database, the positions it stored", async () => {
    await waitUntilCaughtUp(t);
    const stored = await t.db.projectionOffset.findMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID } });
    expect(stored.length).toBeGreaterThan(0);
    await expect
      .poll(async () => {
        const committed = await t.admin.fetchOffsets({ groupId: t.config.PROJECTOR_GROUP_ID, topics: Object.values(t.topics) });
        const byKey = new Map(committed.flatMap((c) => c.partitions.map((p) => [`${c.topic}/${p.partition}`, p.offset])));
        return stored.filter((row) => byKey.get(`${row.topic}/${row.partition}`) !== String(row.nextOffset)).length;
      }, { timeout: 10_000 })
      .toBe(0);
  });
  it("applies the batches of many partitions and both streams in one transaction, each as it would be alone", async () => {
    await waitUntilCaughtUp(t);
    await projector.stop();
    try {
      const producer = t.kafka.producer();
      await producer.connect();
      onTestFinished(() => producer.disconnect());
      // A user on every partition, a message that is not an event on one of them, a role.
      const ids = Array.from({ length: t.config.KAFKA_PARTITIONS }, (_, p) => {
        for (;;) {
          const id = randomUUID();
          if (keyPartition(id, t.config.KAFKA_PARTITIONS) === p) return id;
        }
      });
      await producer.send({
        topic: t.topics.users,
        messages: [
          ...ids.map((id, p) => ({ key: id, value: JSON.stringify(externalUserCreated(id, `merged${p}@example.com`)) })),
          { key: ids[1]!, value: "{not json" },
        ],
      });
      const role = await createRole(t.deps, t.ctx, { name: "merged" });
      const stored = new Map(
        (await t.db.projectionOffset.findMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID } })).map((o) => [`${o.topic}/${o.partition}`, o.nextOffset]),
      );
      // One partition's batch comes from past its stored position (a gap): refused alone.
      const gap = [...stored.keys()].find((k) => k.startsWith(`${t.topics.users}/`) && k !== `${t.topics.users}/1`)!;
      const byPartition = new Map<string, Awaited<ReturnType<typeof readLog>>>();
      for (const m of await readLog(t)) byPartition.set(`${m.topic}/${m.partition}`, [...(byPartition.get(`${m.topic}/${m.partition}`) ?? []), m]);
      const inputs: BatchInput[] = [...byPartition.entries()].map(([k, messages]) => ({
        group: t.config.PROJECTOR_GROUP_ID,
        topic: messages[0]!.topic,
        partition: messages[0]!.partition,
        stream: messages[0]!.topic === t.topics.users ? "users" : "roles",
        app,
        personalData: t.personalData,
        partitions: t.config.KAFKA_PARTITIONS,
        // The whole partition again: what was applied before is skipped.
        fetchedOffset: k === gap ? String(stored.get(k)! + 1n) : "0",
        messages: messages.map((m) => ({ offset: m.offset, key: m.key === null ? null : Buffer.from(m.key), value: m.value })),
      }));
      expect(inputs.length).toBeGreaterThan(t.config.KAFKA_PARTITIONS);
      const pool = sqlPoolOf(t.db, { max: 1, connectionTimeoutMs: 10_000 });
      onTestFinished(() => pool.end());
      const statements: string[] = [];
      const outcomes = await inSqlTransaction(pool, (tx) => applyBatches(tx, inputs), { onStatement: (text) => statements.push(text) });

      const outcomeOf = (topic: string, partition: number) => outcomes[inputs.findIndex((i) => i.topic === topic && i.partition === partition)]!;
      const [, gapPartition] = gap.split("/");
      expect(outcomeOf(t.topics.users, Number(gapPartition))).toEqual({ nextOffset: null, gapFrom: String(stored.get(gap)), applied: [], deadLetters: [], skipped: 0 });
      const applied = outcomes.flatMap((o) => o.applied.map((e) => e.aggregateId));
      expect(applied.sort()).toEqual([...ids.filter((_, p) => `${t.topics.users}/${p}` !== gap), role.aggregateId].sort());
      expect(outcomeOf(t.topics.users, 1).deadLetters.map((d) => d.reason)).toEqual([expect.stringMatching(/^not JSON/)]);
      for (const [i, input] of inputs.entries()) {
        if (`${input.topic}/${input.partition}` === gap) continue;
        const old = stored.get(`${input.topic}/${input.partition}`) ?? 0n;
        expect(outcomes[i]!.skipped).toBe(Number(old));
        expect(outcomes[i]!.nextOffset).toBe(String(BigInt(input.messages.at(-1)!.offset) + 1n));
      }
      // One read and one write of the positions for all the partitions, not one of each per partition.
      expect(statements.filter((s) => s.includes("projection_offsets"))).toHaveLength(2);
      const positions = await t.db.projectionOffset.findMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID } });
      for (const o of positions) {
        const key = `${o.topic}/${o.partition}`;
        const messages = byPartition.get(key)!;
        expect(o.nextOffset).toBe(key === gap ? stored.get(key) : BigInt(messages.at(-1)!.offset) + 1n);
      }
      expect(await t.db.user.count({ where: { id: { in: ids } } })).toBe(ids.length - 1);
    } finally {
      projector = await startProjector(t);
    }
    // The refused partition is read again by the projector: everything is there, once.
    await expectModelEqualsLog(t);
    expect(await t.db.deadLetter.count({ where: { value: "{not json" } })).toBeGreaterThanOrEqual(1);
  });
  it("tells Kafka the stored positions when it is assigned its partitions, so positions stored without it are not left behind there", async () => {
    // The test above stored positions outside any consumer: Kafka's committed offsets were left
    // behind for the partitions with nothing new since. The projector restarted there commits the
    // stored positions on assignment (what the group's lag in Kafka's own tools is computed from).
    const stored = await t.db.projectionOffset.findMany({ where: { consumerGroup: t.config.PROJECTOR_GROUP_ID } });
    await expect
      .poll(async () => {
        const committed = await t.admin.fetchOffsets({ groupId: t.config.PROJECTOR_GROUP_ID, topics: Object.values(t.topics) });
        const byKey = new Map(committed.flatMap((c) => c.partitions.map((p) => [`${c.topic}/${p.partition}`, p.offset])));
        return stored.filter((row) => byKey.get(`${row.topic}/${row.partition}`) !== String(row.nextOffset)).map((row) => `${row.topic}/${row.partition}`);
      }, { timeout: 15_000 })
      .toEqual([]);
  });
  it("with a linger, holds its next fetch so that what arrives meanwhile is applied in one transaction", async () => {
    await waitUntilCaughtUp(t);
    await projector.stop();
    let transactions = 0;
    // One statement of every transaction reads and locks its partitions' positions.
    const onStatement = (text: string) => {
      if (text.includes("FROM projection_offsets") && text.includes("FOR UPDATE")) transactions++;
    };
    projector = await startProjector(t, { lingerMs: 3_000, onStatement });
    const visible = (ids: string[]) => eventually(() => t.db.user.count({ where: { id: { in: ids } } }), (n) => n === ids.length);
    const first = await createUser(t.deps, t.ctx, { email: "linger.first@example.com", name: "Linger first" });
    expect(await visible([first.aggregateId])).toBe(1);
    // Its batch's fetch is held for 3 s from its start: these five land meanwhile, on several partitions.
    transactions = 0;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createUser(t.deps, t.ctx, { email: `linger.${i}@example.com`, name: `Linger ${i}` })).aggregateId);
    expect(await visible(ids)).toBe(5);
    expect(transactions).toBe(1);
    // Stopping does not wait out a hold.
    const stopped = Date.now();
    await projector.stop();
    expect(Date.now() - stopped).toBeLessThan(2_500);
    projector = await startProjector(t);
    await expectModelEqualsLog(t);
  });
});
