/**
 * The users table's query on the real PostgreSQL: a role filter gives the same
 * pages and totals whether the role is read from its member list (few members)
 * or by walking users and probing each (many), with search, status, both sorts
 * and keyset pagination.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Projector } from "@/lib/projection/projector";
import { createRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser } from "@/modules/users/application/user-commands";
import { listUsers, type ListUsersParams } from "@/modules/users/read/list-users";
import { createTestContext, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;
let ops = "";
let support = "";

beforeAll(async () => {
  t = await createTestContext("list_users");
  projector = await startProjector(t);
  ops = (await createRole(t.deps, t.ctx, { name: "ops" })).aggregateId;
  support = (await createRole(t.deps, t.ctx, { name: "support" })).aggregateId;
  for (let i = 0; i < 30; i++) {
    const u = await createUser(t.deps, t.ctx, { email: `${i % 2 ? "mara" : "otto"}${i}@example.com`, name: `${i % 2 ? "Mara" : "Otto"} ${i}` });
    if (i % 3 === 0) await assignRole(t.deps, t.ctx, { userId: u.aggregateId, roleId: ops });
    if (i % 5 === 0) await assignRole(t.deps, t.ctx, { userId: u.aggregateId, roleId: support });
    const version = 1 + Number(i % 3 === 0) + Number(i % 5 === 0);
    if (i % 9 === 0) await deleteUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: version });
  }
  await waitUntilCaughtUp(t);
}, 120_000);

afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

/** Every page of a listing, following the cursors. */
async function allPages(params: ListUsersParams, fewMembers?: number) {
  const pages = [];
  let cursor: string | null = null;
  do {
    const page = await listUsers(t.db, { ...params, cursor, limit: 4 }, { fewMembers });
    pages.push({ ids: page.users.map((u) => u.id), total: page.total, capped: page.isTotalCapped });
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

describe("listUsers with a role filter", () => {
  it("reads the same pages from the member list as from the walk over users", async () => {
    const cases: ListUsersParams[] = [
      { roleId: ops },
      { roleId: ops, status: "live" },
      { roleId: ops, status: "deleted" },
      { roleId: support, search: "mara" },
      { roleId: ops, search: "OTTO", sort: "name" },
      { roleId: support, sort: "name", status: "all" },
      { roleId: ops, search: "nobody" },
    ];
    for (const params of cases) {
      const fromMembers = await allPages(params);
      const fromWalk = await allPages(params, 0);
      expect(fromMembers, JSON.stringify(params)).toEqual(fromWalk);
    }
    // And they are right: ops members are users 0, 3, …, 27 (10); 0, 9, 18, 27 were deleted.
    const live = (await allPages({ roleId: ops, status: "live" })).flatMap((p) => p.ids);
    expect(live).toHaveLength(6);
    expect((await allPages({ roleId: ops, status: "live" }))[0]!.total).toBe(6);
  });
});
