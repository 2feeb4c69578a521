/** Races and an unavailable broker, on the real broker and database. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/infra/ports";
import { kafkaConfig } from "@/lib/config";
import { createEventAppender } from "@/lib/kafka/producer";
import { createUser, updateUser } from "@/modules/users/application/user-commands";
import { createTestContext, readEvents, type TestContext } from "../integration";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext("races");
});
afterAll(async () => {
  await t?.close();
});

describe("concurrency", () => {
  it("50 concurrent creates with one email: exactly one UserCreated", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => createUser(t.deps, t.ctx, { email: "Race@Example.com", name: `Racer ${i}` })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    for (const r of lost) expect(r.reason).toMatchObject({ code: "invariant", fieldErrors: { email: [expect.any(String)] } });
    const created = (await readEvents(t)).filter((e) => e.type === "UserCreated" && e.payload.email.toLowerCase() === "race@example.com");
    expect(created).toHaveLength(1);
  });

  it("concurrent edits from the same version: exactly one wins, the rest are told of the conflict", async () => {
    const u = await createUser(t.deps, t.ctx, { email: "edit-race@example.com", name: "Start" });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 1, name: `Edit ${i}` })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toMatchObject({ code: "conflict", message: expect.stringMatching(/changed by someone else/) });
    const updates = (await readEvents(t)).filter((e) => e.aggregateId === u.aggregateId && e.type === "UserUpdated");
    expect(updates).toHaveLength(1);
    expect(updates[0]?.sequence).toBe(2);
  });

  it("with Kafka unreachable: a clear error within 10 s, and nothing half-done", async () => {
    const u = await createUser(t.deps, t.ctx, { email: "down@example.com", name: "Down" });
    // A broker address where nothing listens: the cluster is down.
    const down = kafkaConfig({ ...t.env, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const appender = createEventAppender(down, { personalData: null });
    const deps = { db: t.db, appender };
    try {
      let started = Date.now();
      await expect(createUser(deps, t.ctx, { email: "held@example.com", name: "Held" })).rejects.toMatchObject({
        code: "unavailable",
        message: expect.stringMatching(/Kafka.*was not saved/),
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      started = Date.now();
      await expect(updateUser(deps, t.ctx, { userId: u.aggregateId, expectedVersion: 1, name: "Changed" })).rejects.toMatchObject({
        code: "unavailable",
      });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await appender.disconnect().catch(() => {});
    }
    // No email held, no version advanced.
    expect(await t.db.emailReservation.findUnique({ where: { email: "held@example.com" } })).toBeNull();
    expect(await t.db.stream.findUniqueOrThrow({ where: { id: u.aggregateId } })).toMatchObject({ version: 1 });
    // With the broker back, the same commands go through.
    await expect(createUser(t.deps, t.ctx, { email: "held@example.com", name: "Held" })).resolves.toMatchObject({ version: 1 });
    await expect(updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 1, name: "Changed" })).resolves.toMatchObject({
      version: 2,
    });
  });
});
