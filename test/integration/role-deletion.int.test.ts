/**
 * Deleting a role with many members (issue 15), on the real broker and PostgreSQL: members lose
 * the role in batches (modules/users/application/role-deletion.ts), each exactly once, then
 * RoleDeleted; a deletion stopped midway by an unreachable broker resumes and finishes with no
 * duplicate; an assignment racing the deletion is refused or unassigned.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@/infra/ports";
import type { CommandContext, CommandDeps } from "@/lib/command/execute";
import { kafkaConfig } from "@/lib/config";
import { createEventAppender, type EventAppender } from "@/lib/kafka/producer";
import type { Projector } from "@/lib/projection/projector";
import type { DomainEvent } from "@/modules";
import { createRole, deleteRole } from "@/modules/roles/application/role-commands";
import { findRoleMembers } from "@/modules/users/application/role-deletion";
import { assignRole, createUser } from "@/modules/users/application/user-commands";
import { createTestContext, expectModelEqualsLog, foldLog, readEvents, startProjector, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;
let admin: CommandContext;

beforeAll(async () => {
  t = await createTestContext("role_deletion");
  projector = await startProjector(t);
  // A user actor, as in the console: every event carries the actor's sealed email and name.
  const a = await createUser(t.deps, t.ctx, { email: "deleter@example.com", name: "Deleter" });
  admin = { actor: { kind: "user", userId: a.aggregateId, email: "deleter@example.com", name: "Deleter" } };
}, 60_000);
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

/** Runs `fn` over `items`, `width` at a time (concurrent commands share produce requests). */
async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

async function roleWithMembers(name: string, count: number) {
  const role = await createRole(t.deps, admin, { name, description: "" });
  const users = await inParallel(Array.from({ length: count }, (_, i) => i), 16, (i) =>
    createUser(t.deps, t.ctx, { email: `${name}.${i}@example.com`, name: `${name} ${i}` }),
  );
  await inParallel(users, 16, (u) => assignRole(t.deps, admin, { userId: u.aggregateId, roleId: role.aggregateId }));
  return { roleId: role.aggregateId, memberIds: users.map((u) => u.aggregateId) };
}

/** The role's RoleUnassignedFromUser events in the log, per user. */
async function unassignmentsOf(roleId: string) {
  const events = await readEvents(t);
  const per = new Map<string, number>();
  const unassigned = events.filter(
    (e): e is Extract<DomainEvent, { type: "RoleUnassignedFromUser" }> => e.type === "RoleUnassignedFromUser" && e.payload.roleId === roleId,
  );
  for (const e of unassigned) per.set(e.aggregateId, (per.get(e.aggregateId) ?? 0) + 1);
  const deleted = events.filter((e) => e.type === "RoleDeleted" && e.aggregateId === roleId);
  return { events, unassigned, per, deleted };
}

describe("deleting a role with many members", () => {
  it("unassigns 900 members in batches, each exactly once, then RoleDeleted; the read model equals the log's fold", async () => {
    const { roleId, memberIds } = await roleWithMembers("crowd", 900);
    const batches: number[] = [];
    const result = await deleteRole(t.deps, admin, { roleId, expectedVersion: 1 }, { batchSize: 200, pace: false, onBatch: (done) => batches.push(done) });

    expect(result.unassigned.count).toBe(900);
    expect(batches).toEqual([200, 400, 600, 800, 900]);
    const { unassigned, per, deleted } = await unassignmentsOf(roleId);
    expect([...per.keys()].sort()).toEqual([...memberIds].sort());
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    expect(unassigned.every((e) => e.payload.reason === "role-deleted" && e.payload.roleName === "crowd")).toBe(true);
    // One request, one correlation id; RoleDeleted last.
    expect(new Set([...unassigned, ...deleted].map((e) => e.correlationId)).size).toBe(1);
    expect(deleted).toHaveLength(1);
    const lastUnassigned = unassigned.map((e) => e.occurredAt).sort().at(-1)!;
    expect(deleted[0]!.occurredAt >= lastUnassigned).toBe(true);
    // Each member's sequence follows its assignment (2: created, assigned; 3: unassigned).
    expect(unassigned.every((e) => e.sequence === 3)).toBe(true);

    expect(await findRoleMembers(t.db, roleId)).toEqual([]);
    expect(await t.db.roleDeletion.findUniqueOrThrow({ where: { roleId } })).toMatchObject({ done: 900, total: 900, error: null });
    expect((await t.db.roleDeletion.findUniqueOrThrow({ where: { roleId } })).finishedAt).not.toBeNull();
    await expectModelEqualsLog(t, 60_000);
    expect(await t.db.userRole.count({ where: { roleId } })).toBe(0);
    expect(await t.db.role.findUniqueOrThrow({ where: { id: roleId } })).toMatchObject({ isDeleted: true });
  }, 180_000);

  it("stopped midway by an unreachable broker: the role stays closed to assignment, and running it again finishes with no duplicate", async () => {
    const { roleId, memberIds } = await roleWithMembers("halted", 500);
    const down = createEventAppender(kafkaConfig({ ...t.env, KAFKA_BROKERS: `127.0.0.1:${await freePort()}` }), { personalData: t.personalData });
    // The broker goes away after two batches.
    let sends = 0;
    const flaky: EventAppender = {
      ...t.appender,
      appendMany: (events, serde, options) => (++sends <= 2 ? t.appender : down).appendMany(events, serde, options),
    };
    const deps: CommandDeps = { ...t.deps, appender: flaky };
    try {
      await expect(deleteRole(deps, admin, { roleId, expectedVersion: 1 }, { batchSize: 150, pace: false })).rejects.toMatchObject({ code: "unavailable" });
    } finally {
      await down.disconnect().catch(() => {});
    }
    const halted = await t.db.roleDeletion.findUniqueOrThrow({ where: { roleId } });
    expect(halted).toMatchObject({ done: 300, total: 500, finishedAt: null });
    expect(halted.error).toMatch(/Kafka/);
    expect((await unassignmentsOf(roleId)).unassigned).toHaveLength(300);
    expect(await findRoleMembers(t.db, roleId)).toHaveLength(200);
    // Closed to new members meanwhile; the role itself is not deleted yet.
    const newcomer = await createUser(t.deps, t.ctx, { email: "newcomer@example.com", name: "Newcomer" });
    await expect(assignRole(t.deps, admin, { userId: newcomer.aggregateId, roleId })).rejects.toMatchObject({
      code: "invariant",
      message: expect.stringMatching(/being deleted/),
    });

    const resumed = await deleteRole(t.deps, admin, { roleId, expectedVersion: 1 }, { batchSize: 150, pace: false });
    expect(resumed.unassigned.count).toBe(200);
    const { unassigned, per, deleted } = await unassignmentsOf(roleId);
    expect([...per.keys()].sort()).toEqual([...memberIds].sort());
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    expect(deleted).toHaveLength(1);
    // The resumed run carries on under the first run's correlation id.
    expect(new Set([...unassigned, ...deleted].map((e) => e.correlationId)).size).toBe(1);
    expect(await t.db.roleDeletion.findUniqueOrThrow({ where: { roleId } })).toMatchObject({ done: 500, error: null });
    await expectModelEqualsLog(t, 60_000);
  }, 180_000);

  it("an assignment racing the deletion is refused or unassigned: no user keeps the deleted role", async () => {
    const { roleId } = await roleWithMembers("raced", 600);
    const outsiders = await inParallel(Array.from({ length: 40 }, (_, i) => i), 16, (i) =>
      createUser(t.deps, t.ctx, { email: `outsider.${i}@example.com`, name: `Outsider ${i}` }),
    );
    const assign = (u: { aggregateId: string }) => assignRole(t.deps, admin, { userId: u.aggregateId, roleId });
    // Half are sent with the deletion (either side of its start), half once its first batch is in.
    const during: Array<Promise<unknown>> = [];
    const early = outsiders.slice(0, 20).map((u) => assign(u).then(() => "assigned", (e: { code?: string }) => e.code));
    const deletion = deleteRole(t.deps, admin, { roleId, expectedVersion: 1 }, {
      batchSize: 50,
      onBatch: (done) => {
        if (done === 50) during.push(...outsiders.slice(20).map((u) => assign(u).then(() => "assigned", (e: { code?: string }) => e.code)));
      },
    });
    const [earlyOutcomes, deleted] = await Promise.all([Promise.all(early), deletion]);
    const lateOutcomes = await Promise.all(during);
    expect(lateOutcomes).toHaveLength(20);
    // Once the deletion has begun, every assignment is refused.
    expect(lateOutcomes.every((o) => o === "invariant")).toBe(true);
    expect(earlyOutcomes.every((o) => o === "assigned" || o === "invariant" || o === "not_found")).toBe(true);
    // Those that got in before the deletion began lost the role with the members.
    expect(deleted.unassigned.count).toBe(600 + earlyOutcomes.filter((o) => o === "assigned").length);
    expect(await findRoleMembers(t.db, roleId)).toEqual([]);
    await expectModelEqualsLog(t, 60_000);
    const fold = await foldLog(t);
    for (const [, state] of fold.users) expect(state && roleId in state.roles).toBeFalsy();
  }, 180_000);
});
