/**
 * A role given to or taken from many users in batches (issue 15): each user decided on its own
 * state with its own outcome, the events in Kafka and in the read model, the same refusals as the
 * single command (the caller's standing, a role being deleted), and exact outcomes when a later
 * batch is refused.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForProjection } from "@/lib/command/wait-for-projection";
import type { Projector } from "@/lib/projection/projector";
import { createRole } from "@/modules/roles/application/role-commands";
import { changeRoleOfUsers } from "@/modules/users/application/bulk-roles";
import { beginRoleDeletion } from "@/modules/users/application/role-deletion";
import { assignRole, createUser, deleteUser } from "@/modules/users/application/user-commands";
import { createTestContext, readEvents, startProjector, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("bulk-roles");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

async function users(prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createUser(t.deps, t.ctx, { email: `${prefix}${i}@example.com`, name: `${prefix} ${i}` })).aggregateId);
  return ids;
}

describe("changeRoleOfUsers", () => {
  it("assigns in batches: each user's own outcome, one event per changed user in Kafka and the read model", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "bulk-support" });
    const ids = await users("bulk", 7);
    await assignRole(deps, ctx, { userId: ids[0]!, roleId: role.aggregateId }); // already a member
    await deleteUser(deps, ctx, { userId: ids[1]!, expectedVersion: 1 }); // deleted
    const unknown = randomUUID();
    const batches: number[] = [];

    const result = await changeRoleOfUsers(
      deps,
      ctx,
      { roleId: role.aggregateId, change: "assign", userIds: [...ids, unknown, ids[2]!.toUpperCase(), role.aggregateId] },
      { batchSize: 3, pace: false, onBatch: (done) => void batches.push(done) },
    );

    expect(batches).toEqual([3, 6, 9]); // 9 distinct ids (a repeated id counts once), three batches
    const byId = new Map(result.results.map((r) => [r.userId, r]));
    expect(result.results).toHaveLength(9);
    // A role's id among the users' ids is a user not found, not a failed batch.
    expect(byId.get(role.aggregateId)).toMatchObject({ outcome: "failed", code: "not_found" });
    expect(byId.get(ids[0]!)).toEqual({ userId: ids[0], outcome: "unchanged" });
    expect(byId.get(ids[1]!)).toMatchObject({ outcome: "failed", code: "not_found" });
    expect(byId.get(unknown)).toMatchObject({ outcome: "failed", code: "not_found" });
    for (const id of ids.slice(2)) expect(byId.get(id)).toEqual({ userId: id, outcome: "changed" });
    expect(result.role).toEqual({ id: role.aggregateId, name: "bulk-support" });

    // In the log: one RoleAssignedToUser per changed user, all with one correlation id.
    const assigned = (await readEvents(t)).filter((e) => e.type === "RoleAssignedToUser" && e.payload.roleId === role.aggregateId);
    expect(assigned.map((e) => e.aggregateId).sort()).toEqual([ids[0]!, ...ids.slice(2)].sort());
    const bulk = assigned.filter((e) => e.aggregateId !== ids[0]);
    expect(new Set(bulk.map((e) => e.correlationId)).size).toBe(1);

    expect(await waitForProjection(t.db, t.config.PROJECTOR_GROUP_ID, result.events, 15_000)).toBe(true);
    const members = await t.db.userRole.findMany({ where: { roleId: role.aggregateId } });
    expect(members.map((m) => m.userId).sort()).toEqual([ids[0]!, ...ids.slice(2)].sort());

    // And back: unassigning the same users takes it from those who hold it.
    const back = await changeRoleOfUsers(deps, ctx, { roleId: role.aggregateId, change: "unassign", userIds: ids.slice(2) });
    expect(back.results.every((r) => r.outcome === "changed")).toBe(true);
    expect(await waitForProjection(t.db, t.config.PROJECTOR_GROUP_ID, back.events, 15_000)).toBe(true);
    expect(await t.db.userRole.count({ where: { roleId: role.aggregateId } })).toBe(1);
  });

  it("refuses bad input, an unknown role, and a role the caller could not grant, doing nothing", async () => {
    const { deps, ctx } = t;
    const [id] = await users("refused", 1);
    const admin = await createRole(deps, ctx, { name: "bulk-admins", permissions: ["roles:write"] });
    const limited = { ...ctx, grantable: new Set(["users:read", "users:write"]) };

    await expect(changeRoleOfUsers(deps, ctx, { roleId: admin.aggregateId, change: "assign", userIds: [] })).rejects.toMatchObject({
      code: "validation",
      message: expect.stringContaining("Choose at least one user."),
    });
    await expect(
      changeRoleOfUsers(deps, ctx, { roleId: admin.aggregateId, change: "assign", userIds: [id!, "not-an-id", "x"] }),
    ).rejects.toMatchObject({ code: "validation", message: expect.stringContaining('2 of 3 are not valid user ids ("not-an-id", "x")') });
    await expect(
      changeRoleOfUsers(deps, ctx, { roleId: admin.aggregateId, change: "assign", userIds: Array.from({ length: 10_001 }, () => id!) }),
    ).rejects.toMatchObject({ code: "validation", message: expect.stringContaining("At most 10,000 users at a time.") });
    await expect(changeRoleOfUsers(deps, ctx, { roleId: admin.aggregateId, change: "grant", userIds: [id!] })).rejects.toMatchObject({
      code: "validation",
    });
    await expect(changeRoleOfUsers(deps, ctx, { roleId: randomUUID(), change: "assign", userIds: [id!] })).rejects.toMatchObject({
      code: "invariant",
      message: "That role does not exist (it may have been deleted).",
    });
    await expect(changeRoleOfUsers(deps, limited, { roleId: admin.aggregateId, change: "assign", userIds: [id!] })).rejects.toMatchObject({
      code: "forbidden",
      message: expect.stringContaining('"roles:write"'),
    });
    const held = await t.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM streams WHERE id = ${id}::uuid AND state->'roles' ? ${admin.aggregateId}`;
    expect(held[0]!.n).toBe(0);
  });

  it("a role whose deletion begins midway: the committed batches stand, the rest fail with the reason", async () => {
    const { deps, ctx } = t;
    const role = await createRole(deps, ctx, { name: "bulk-doomed" });
    const ids = (await users("doomed", 5)).sort();

    const result = await changeRoleOfUsers(
      deps,
      ctx,
      { roleId: role.aggregateId, change: "assign", userIds: ids },
      {
        batchSize: 2,
        pace: false,
        onBatch: async (done) => {
          if (done === 2) await t.db.$transaction((tx) => beginRoleDeletion(tx, role.aggregateId, randomUUID()));
        },
      },
    );

    expect(result.results.filter((r) => r.outcome === "changed")).toHaveLength(2);
    const failed = result.results.filter((r) => r.outcome === "failed");
    expect(failed).toHaveLength(3);
    for (const f of failed) expect(f).toMatchObject({ code: "invariant", message: 'The role "bulk-doomed" is being deleted.' });
    // Exactly the users reported changed hold the role on the command side.
    const holders = await t.db.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM streams WHERE state->'roles' ? ${role.aggregateId} ORDER BY id`;
    expect(holders.map((h) => h.id)).toEqual(result.results.filter((r) => r.outcome === "changed").map((r) => r.userId).sort());
  });
});
