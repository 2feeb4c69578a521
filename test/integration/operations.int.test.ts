/**
 * Operations on the real broker and PostgreSQL: the health page's numbers
 * (log ends, positions, lag, instances) and dead-letter retry and discard.
 */
import { randomUUID } from "node:crypto";
import type { Producer } from "kafkajs";
import { app } from "@/modules";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRepublisher, type Republisher } from "@/lib/kafka/republisher";
import type { Projector } from "@/lib/projection/projector";
import { discardDeadLetter, retryDeadLetter } from "@/modules/operations/application/dead-letters";
import { getHealth } from "@/modules/operations/read/health";
import { createRole } from "@/modules/roles/application/role-commands";
import { createUser, recordLogin } from "@/modules/users/application/user-commands";
import { createTestContext, endOffsets, eventually, readLog, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;
let producer: Producer;
let republisher: Republisher;

beforeAll(async () => {
  t = await createTestContext("operations");
  projector = await startProjector(t);
  producer = t.kafka.producer();
  await producer.connect();
  republisher = createRepublisher(t.config);
});
afterAll(async () => {
  await projector?.stop();
  await producer?.disconnect();
  await republisher?.disconnect();
  await t?.close();
});

const health = () =>
  getHealth({ db: t.db, admin: async () => t.admin, group: t.config.PROJECTOR_GROUP_ID, topics: Object.values(t.topics) });

const envelope = (type: string, aggregateId: string, sequence: number, payload: unknown, correlationId: string) => ({
  id: randomUUID(),
  type,
  schemaVersion: 1,
  aggregateId,
  sequence,
  occurredAt: new Date().toISOString(),
  actor: { kind: "service", name: "ops-test" },
  correlationId,
  causationId: null,
  payload,
});

const deps = () => ({ db: t.db, republisher, produceTimeoutMs: t.config.KAFKA_PRODUCE_TIMEOUT_MS });

describe("health data", () => {
  it("reports every partition's log end, stored position and lag, the live instance and the events per minute", async () => {
    await createRole(t.deps, t.ctx, { name: "health-role" });
    for (const n of [1, 2, 3]) {
      const u = await createUser(t.deps, t.ctx, { email: `health${n}@example.com`, name: `Health ${n}` });
      await recordLogin(t.deps, t.ctx, { userId: u.aggregateId, ip: null, userAgent: null });
    }
    await waitUntilCaughtUp(t);
    const ends = await endOffsets(t);
    const h = await eventually(health, (v) => v.instances.some((i) => Object.keys(i.assignment).length === app.streams.length));

    expect(h.kafkaError).toBeNull();
    for (const topic of h.topics) {
      expect(topic.partitions).toHaveLength(4);
      expect(topic.lag).toBe(0n);
      for (const p of topic.partitions) {
        const end = ends.find((e) => e.topic === topic.topic && e.partition === p.partition)!.high;
        expect(p.endOffset).toBe(end);
        expect(p.lag).toBe(0n);
        if (end > 0n) {
          expect(p.position).toBe(end);
          expect(p.lastEventAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
        }
      }
    }
    // users, roles, api-tokens (in the modules' order); no token was made here.
    expect(h.topics.map((x) => x.endOffset)).toEqual([6n, 1n, 0n]);

    expect(h.instances).toHaveLength(1);
    const [instance] = h.instances;
    expect(instance).toMatchObject({ instanceId: projector.instanceId, isAlive: true, pid: process.pid });
    expect(instance!.assignment).toEqual(Object.fromEntries(Object.values(t.topics).map((topic) => [topic, [0, 1, 2, 3]])));
    expect(h.unheld).toBe(0);

    expect(h.throughput.total).toBe(7);
    expect(Object.fromEntries(h.throughput.series.map((s) => [s.type, s.total]))).toEqual({
      UserCreated: 3,
      UserLoggedIn: 3,
      RoleCreated: 1,
    });
  });
});

describe("dead letters", () => {
  it("retry re-publishes the message with its key and headers to its partition, once the cause is fixed", async () => {
    const userId = randomUUID();
    const correlationId = `retry-${randomUUID()}`;
    // Another service's update arrives before the user exists: the projector cannot apply it.
    const update = envelope("UserUpdated", userId, 2, { name: "Fixed by retry" }, correlationId);
    const headers = { type: "UserUpdated", schemaVersion: "1", correlationId };
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: userId, value: JSON.stringify(update), headers }] });
    await waitUntilCaughtUp(t);
    const letter = await t.db.deadLetter.findFirstOrThrow({ where: { key: userId } });
    expect(letter).toMatchObject({ status: "open", resolvedAt: null, resolvedBy: null, headers });
    expect((await health()).deadLetters).toMatchObject({ open: 1 });

    // The fix: the user's creation is published (same key, so the same partition).
    const created = envelope("UserCreated", userId, 1, { email: `retry-${userId}@example.com`, name: "Before" }, correlationId);
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key: userId, value: JSON.stringify(created) }] });
    await waitUntilCaughtUp(t);

    const at = await retryDeadLetter(deps(), letter.id, "ops-tester");
    expect(at.partition).toBe(letter.partition);
    await waitUntilCaughtUp(t);
    expect(await t.db.user.findUniqueOrThrow({ where: { id: userId } })).toMatchObject({ name: "Fixed by retry", version: 2 });

    const handled = await t.db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } });
    expect(handled).toMatchObject({ status: "retried", resolvedBy: "ops-tester", retriedPartition: at.partition, retriedOffset: BigInt(at.offset) });
    expect(handled.resolvedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    // Applied, not dead-lettered again.
    expect(await t.db.deadLetter.count({ where: { key: userId } })).toBe(1);

    const republished = (await readLog(t, [t.topics.users])).find((m) => m.partition === at.partition && m.offset === at.offset);
    expect(republished).toMatchObject({ key: userId, value: Buffer.from(JSON.stringify(update)), headers });

    await expect(retryDeadLetter(deps(), letter.id, "someone-else")).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringContaining("already retried by ops-tester"),
    });
    expect((await health()).deadLetters).toMatchObject({ open: 0 });
  });

  it("discard marks the row handled and publishes nothing", async () => {
    const key = `garbage-${randomUUID()}`;
    await producer.send({ topic: t.topics.users, acks: -1, messages: [{ key, value: "{not json" }] });
    await waitUntilCaughtUp(t);
    const letter = await t.db.deadLetter.findFirstOrThrow({ where: { key } });
    expect(letter.status).toBe("open");
    const before = await endOffsets(t);

    await discardDeadLetter(t.db, letter.id, "ops-tester");
    expect(await t.db.deadLetter.findUniqueOrThrow({ where: { id: letter.id } })).toMatchObject({
      status: "discarded",
      resolvedBy: "ops-tester",
      retriedOffset: null,
    });
    expect(await endOffsets(t)).toEqual(before);
    await expect(discardDeadLetter(t.db, letter.id, "someone-else")).rejects.toMatchObject({ code: "conflict" });
    await expect(retryDeadLetter(deps(), letter.id, "someone-else")).rejects.toMatchObject({ code: "conflict" });
    await expect(discardDeadLetter(t.db, 999_999n, "ops-tester")).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("health data with the projector stopped", () => {
  it("counts what is published after it stopped as lag on exactly that partition, and shows the instance stopped", async () => {
    await waitUntilCaughtUp(t);
    await projector.stop();
    const before = await health();
    await producer.send({
      topic: t.topics.users,
      acks: -1,
      messages: [0, 1, 2].map((n) => ({ partition: 2, key: `lag-${n}`, value: "{not json" })),
    });
    const after = await health();
    const users = after.topics.find((x) => x.topic === t.topics.users)!;
    const p2 = users.partitions.find((p) => p.partition === 2)!;
    const p2Before = before.topics.find((x) => x.topic === t.topics.users)!.partitions.find((p) => p.partition === 2)!;
    expect(p2).toMatchObject({ lag: 3n, endOffset: p2Before.endOffset + 3n, position: p2Before.position });
    expect(users.partitions[0]!.partition).toBe(2); // the one behind is listed first
    expect(users).toMatchObject({ lag: 3n, behind: 1 });
    expect(after.instances).toMatchObject([{ instanceId: projector.instanceId, isAlive: false, assignment: {} }]);
    expect(after.instances[0]!.stoppedAt).not.toBeNull();
    expect(after.unheld).toBe(4 * app.streams.length);
  });
});
