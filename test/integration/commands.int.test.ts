/** Every command, end to end: application layer → Kafka → projector → read model. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import { createDb } from "@/lib/db";
import type { Projector } from "@/lib/projection/projector";
import { createRole, deleteRole, updateRole } from "@/modules/roles/application/role-commands";
import {
  assignRole,
  createUser,
  deleteUser,
  recordLogin,
  unassignRole,
  updateUser,
} from "@/modules/users/application/user-commands";
import { countedRoundTrips, createTestContext, eventually, expectModelEqualsLog, readLog, startProjector, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("commands");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

const projected = (result: { events: Array<{ topic: string; partition: number; offset: string }> }) =>
  waitForProjection(t.db, t.config.PROJECTOR_GROUP_ID, result.events, 15_000);

describe("commands end to end", () => {
  it("runs all nine commands into the read model and the timelines", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "support", description: "Answers tickets" });
    const renamed = await updateRole(deps, ctx, { roleId: role.aggregateId, expectedVersion: 1, name: "Support" });
    expect(renamed.version).toBe(2);

    const ada = await createUser(deps, ctx, { email: "Ada@Example.com", name: "Ada" });
    const assigned = await assignRole(deps, ctx, { userId: ada.aggregateId, roleId: role.aggregateId });
    const edited = await updateUser(deps, ctx, { userId: ada.aggregateId, expectedVersion: 2, name: "Ada Lovelace" });
    const login = await recordLogin(deps, ctx, { userId: ada.aggregateId, ip: "192.0.2.7", userAgent: "Firefox/140" });
    expect(await projected(login)).toBe(true);

    const user = await t.db.user.findUniqueOrThrow({ where: { id: ada.aggregateId }, include: { roles: true } });
    expect(user).toMatchObject({ email: "Ada@Example.com", name: "Ada Lovelace", version: 4, isDeleted: false });
    expect(user.lastLoginAt).not.toBeNull();
    expect(user.roles.map((r) => r.roleName)).toEqual(["Support"]);
    expect(assigned.events[0]?.event.payload).toEqual({ roleId: role.aggregateId, roleName: "Support" });

    const timeline = await t.db.userEvent.findMany({ where: { userId: ada.aggregateId }, orderBy: { sequence: "desc" } });
    expect(timeline.map((e) => e.type)).toEqual(["UserLoggedIn", "UserUpdated", "RoleAssignedToUser", "UserCreated"]);
    expect(timeline[1]?.changes).toEqual({ name: { before: "Ada", after: "Ada Lovelace" } });
    expect(timeline[1]?.actor).toEqual({ kind: "service", name: "integration-test" });
    expect(timeline[1]?.eventId).toBe(edited.events[0]?.event.id);

    const unassigned = await unassignRole(deps, ctx, { userId: ada.aggregateId, roleId: role.aggregateId, expectedVersion: 4 });
    expect(await projected(unassigned)).toBe(true);
    expect(await t.db.userRole.count({ where: { userId: ada.aggregateId } })).toBe(0);

    const deleted = await deleteUser(deps, ctx, { userId: ada.aggregateId, expectedVersion: 5 });
    expect(await projected(deleted)).toBe(true);
    expect(await t.db.user.findUniqueOrThrow({ where: { id: ada.aggregateId } })).toMatchObject({ isDeleted: true, version: 6 });
    // The email is free again once its user is deleted.
    const again = await createUser(deps, ctx, { email: "ada@example.com", name: "Ada II" });
    expect(again.events).toHaveLength(1);
  });

  it("records nothing for a no-op: assigning a held role, updating nothing", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "viewer" });
    const u = await createUser(deps, ctx, { email: "noop@example.com", name: "No Op" });
    await assignRole(deps, ctx, { userId: u.aggregateId, roleId: role.aggregateId });
    const before = (await readLog(t)).length;
    const again = await assignRole(deps, ctx, { userId: u.aggregateId, roleId: role.aggregateId });
    const same = await updateUser(deps, ctx, { userId: u.aggregateId, expectedVersion: 2, name: "No Op" });
    expect(again.events).toEqual([]);
    expect(same).toMatchObject({ events: [], version: 2 });
    expect((await readLog(t)).length).toBe(before);
  });

  it("deleting a role removes it from every member, and each member's timeline says so", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "on-call" });
    const members = await Promise.all(
      ["a", "b", "c"].map((n) => createUser(deps, ctx, { email: `${n}.oncall@example.com`, name: n.toUpperCase() })),
    );
    for (const m of members) await assignRole(deps, ctx, { userId: m.aggregateId, roleId: role.aggregateId });
    const outsider = await createUser(deps, ctx, { email: "outsider@example.com", name: "Out" });

    const result = await deleteRole(deps, ctx, { roleId: role.aggregateId, expectedVersion: 1 });
    expect(result.unassigned.count).toBe(3);
    expect(result.unassigned.userIds.sort()).toEqual(members.map((m) => m.aggregateId).sort());
    expect(await projected(result)).toBe(true);
    expect(await projected({ events: result.unassigned.lastPerPartition })).toBe(true);

    expect(await t.db.role.findUniqueOrThrow({ where: { id: role.aggregateId } })).toMatchObject({ isDeleted: true });
    expect(await t.db.userRole.count({ where: { roleId: role.aggregateId } })).toBe(0);
    for (const m of members) {
      const last = await t.db.userEvent.findFirstOrThrow({ where: { userId: m.aggregateId }, orderBy: { sequence: "desc" } });
      expect(last.type).toBe("RoleUnassignedFromUser");
      expect(last.payload).toEqual({ roleId: role.aggregateId, roleName: "on-call", reason: "role-deleted" });
      expect(last.correlationId).toBe(result.events[0]?.event.correlationId);
    }
    expect(await t.db.userEvent.count({ where: { userId: outsider.aggregateId } })).toBe(1);
    // A deleted role cannot be assigned.
    await expect(assignRole(deps, ctx, { userId: outsider.aggregateId, roleId: role.aggregateId })).rejects.toMatchObject({
      code: "invariant",
    });
  });

  it("rewrites a head in place (a HOT update) when the event leaves the user's roles as they were", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "hot-heads" });
    const grace = await createUser(deps, ctx, { email: "grace.hot@example.com", name: "Grace" });
    await assignRole(deps, ctx, { userId: grace.aggregateId, roleId: role.aggregateId });
    for (let i = 0; i < 5; i++) await recordLogin(deps, ctx, { userId: grace.aggregateId, ip: "192.0.2.9", userAgent: "Firefox/140" });
    // The heads' GIN index (role deletion) is on `roles`, generated from `state->'roles'`: a login
    // changes `state` but no indexed column. On an index of the expression itself none was HOT.
    // Each session reports its counts when idle (within seconds): read until they arrive.
    const stats = await eventually(
      () => t.db.$queryRaw<{ hot: number }[]>`
        SELECT n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relid = 'streams'::regclass`,
      (rows) => (rows[0]?.hot ?? 0) >= 5,
    );
    expect(stats[0]?.hot).toBeGreaterThanOrEqual(5);
  });

  it("gives clear, specific errors for bad input and leaves no trace", async () => {
    const { deps, ctx } = t;
    const before = (await readLog(t)).length;
    await expect(createUser(deps, ctx, { email: "not an email", name: "" })).rejects.toMatchObject({
      code: "validation",
      fieldErrors: { email: ["Enter a valid email address."], name: ["Name is required."] },
    });
    await expect(createUser(deps, ctx, { email: "dupe@example.com", name: "One" })).resolves.toBeDefined();
    await expect(createUser(deps, ctx, { email: "DUPE@example.com", name: "Two" })).rejects.toMatchObject({
      code: "invariant",
      fieldErrors: { email: ["This email is already used by another user."] },
    });
    await expect(
      updateUser(deps, ctx, { userId: "00000000-0000-4000-8000-000000000000", expectedVersion: 1, name: "x" }),
    ).rejects.toMatchObject({ code: "not_found" });
    await expect(updateRole(deps, ctx, { roleId: "nope", expectedVersion: 1 })).rejects.toMatchObject({
      code: "validation",
      fieldErrors: { roleId: ["Not a valid role id."] },
    });
    expect((await readLog(t)).length).toBe(before + 1);
  });

  it("creates without a lock: BEGIN, the new head and the email's reservation in one round trip, then the COMMIT after the ack", async () => {
    const { db, sent } = countedRoundTrips(t.env.DATABASE_URL!);
    const deps = { ...t.deps, db };
    try {
      const created = await createUser(deps, t.ctx, { email: "two.trips@example.com", name: "Two Trips" });
      expect(sent).toEqual(["BEGIN+INSERT+INSERT", "COMMIT"]);
      sent.length = 0;
      // A command on an existing aggregate locks its head first, as before: three round trips.
      await updateUser(deps, t.ctx, { userId: created.aggregateId, expectedVersion: 1, name: "Three Trips" });
      expect(sent).toEqual(["BEGIN+SELECT", "INSERT", "COMMIT"]);
      sent.length = 0;
      await createRole(deps, t.ctx, { name: "two-trips" });
      expect(sent).toEqual(["BEGIN+INSERT", "COMMIT"]);
    } finally {
      await db.$disconnect();
    }
  });

  it("refuses a create whose minted id is taken, leaving that head, the emails and the log as they were; another try goes through", async () => {
    const existing = await createUser(t.deps, t.ctx, { email: "first.owner@example.com", name: "First Owner" });
    const head = await t.db.stream.findUniqueOrThrow({ where: { id: existing.aggregateId } });
    const before = (await readLog(t)).length;
    // The id generator hands out the existing user's id once (a collision), then fresh ids.
    let handedOut = false;
    const newId = () => (handedOut ? randomUUID() : ((handedOut = true), existing.aggregateId));
    const second = { email: "second.owner@example.com", name: "Second Owner" };
    await expect(createUser({ ...t.deps, newId }, t.ctx, second)).rejects.toMatchObject({
      code: "invariant",
      message: `The new user's id ${existing.aggregateId} is already taken. Nothing was saved; try again.`,
    });
    expect(await t.db.stream.findUniqueOrThrow({ where: { id: existing.aggregateId } })).toEqual(head);
    expect(await t.db.emailReservation.count({ where: { email: "second.owner@example.com" } })).toBe(0);
    expect((await readLog(t)).length).toBe(before);
    // Another try mints another id.
    const created = await createUser({ ...t.deps, newId }, t.ctx, second);
    expect(created.aggregateId).not.toBe(existing.aggregateId);
    expect((await readLog(t)).length).toBe(before + 1);
  });

  it("leaves a read model equal to the fold of the whole log", async () => {
    await expectModelEqualsLog(t);
  });

  it("an overloaded console refuses a command clearly, and saves nothing, when no connection comes free", async () => {
    // A pool of one connection, held by a long transaction: the command waits 5 s for it, then is refused.
    const db = createDb(t.env.DATABASE_URL!, { poolSize: 1 });
    const before = (await readLog(t)).length;
    let release!: () => void;
    const holding = db.$transaction(() => new Promise<void>((r) => (release = r)), { timeout: 30_000 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await expect(createUser({ ...t.deps, db }, t.ctx, { email: "overload@example.com", name: "Over Load" })).rejects.toMatchObject({
        code: "unavailable",
        message: "The console is too busy to take this change now: no database connection came free within 5 s. Nothing was saved; try again.",
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    } finally {
      release();
      await holding;
      await db.$disconnect();
    }
    expect(await t.db.emailReservation.count({ where: { email: "overload@example.com" } })).toBe(0);
    expect((await readLog(t)).length).toBe(before);
  }, 30_000);
});

