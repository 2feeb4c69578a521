/**
 * Access review is exact: random histories (assign, unassign, re-assign, role
 * renames, role deletions, user deletions) made with the real commands, projected
 * by the real projector from the real broker, then the access-review queries
 * compared at random instants and periods with a fold of the same log written
 * here from the domain's own `evolveUser`/`evolveRole`, not from the intervals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "@/lib/command/execute";
import { isDomainError } from "@/lib/errors";
import type { Projector } from "@/lib/projection/projector";
import type { DomainEvent } from "@/modules";
import { createRole, deleteRole, updateRole } from "@/modules/roles/application/role-commands";
import { evolveRole, type RoleState } from "@/modules/roles/domain/role-state";
import { assignRole, createUser, deleteUser, unassignRole } from "@/modules/users/application/user-commands";
import { evolveUser, type UserState } from "@/modules/users/domain/user-state";
import {
  listMembersInPeriod,
  memberCountSeries,
  rolesHeldAt,
  streamMembersInPeriod,
  type AccessReviewQuery,
} from "@/modules/users/read/role-membership";
import { createTestContext, readEvents, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("access_review");
  projector = await startProjector(t);
});
afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

/** A small seeded PRNG (mulberry32), so a failing history can be replayed from the seed in the message. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

/** Each aggregate's states after each instant at which it changed: held(t) = state after the last such instant ≤ t. */
type Timeline<S> = { at: number; state: S }[];

function foldTimelines(events: DomainEvent[]) {
  const users = new Map<string, Timeline<UserState>>();
  const roles = new Map<string, Timeline<RoleState>>();
  const sorted = [...events].sort((a, b) => a.aggregateId.localeCompare(b.aggregateId) || a.sequence - b.sequence);
  for (const e of sorted) {
    const at = Date.parse(e.occurredAt);
    const isUser = e.type.startsWith("User") || e.type.startsWith("RoleAssigned") || e.type.startsWith("RoleUnassigned");
    const map = (isUser ? users : roles) as Map<string, Timeline<unknown>>;
    const line = map.get(e.aggregateId) ?? [];
    const prev = line.at(-1)?.state ?? null;
    const state = isUser ? evolveUser(prev as UserState | null, e as never) : evolveRole(prev as RoleState | null, e as never);
    if (line.at(-1)?.at === at) line[line.length - 1] = { at, state };
    else line.push({ at, state });
    map.set(e.aggregateId, line);
  }
  return { users, roles };
}

function stateAt<S>(line: Timeline<S>, at: number): S | null {
  let found: S | null = null;
  for (const point of line) {
    if (point.at > at) break;
    found = point.state;
  }
  return found;
}

const holds = (s: UserState | null, roleId: string) => !!s && !s.isDeleted && roleId in s.roles;

describe("access review", () => {
  it("answers exactly as a fold of the log, over random histories with renames, deletions and re-assignments", async () => {
    const seed = Number(process.env.ACCESS_REVIEW_SEED ?? Date.now() % 1_000_000);
    const rnd = random(seed);
    const admin = await createUser(t.deps, t.ctx, { email: "reviewer@example.com", name: "Reviewer" });
    const asAdmin: CommandContext = { ...t.ctx, actor: { kind: "user", userId: admin.aggregateId, email: "reviewer@example.com" } };
    const actors = [t.ctx, asAdmin];

    const roles: { id: string; version: number; live: boolean }[] = [];
    const newRole = async () => {
      const r = await createRole(t.deps, rnd.pick(actors), { name: `role ${roles.length}` });
      roles.push({ id: r.aggregateId, version: r.version, live: true });
    };
    for (let i = 0; i < 4; i++) await newRole();
    const users: { id: string; version: number; live: boolean; roles: Set<string> }[] = [];
    for (let i = 0; i < 10; i++) {
      const u = await createUser(t.deps, t.ctx, { email: `member${i}@example.com`, name: `Member ${i}` });
      users.push({ id: u.aggregateId, version: u.version, live: true, roles: new Set() });
    }

    for (let step = 0; step < 140; step++) {
      const user = rnd.pick(users.filter((u) => u.live));
      const liveRoles = roles.filter((r) => r.live);
      const dice = rnd.int(100);
      try {
        if (dice < 45) {
          const role = rnd.pick(liveRoles);
          const r = await assignRole(t.deps, rnd.pick(actors), { userId: user.id, roleId: role.id });
          user.version = r.version;
          user.roles.add(role.id);
        } else if (dice < 80 && user.roles.size > 0) {
          const roleId = rnd.pick([...user.roles]);
          const r = await unassignRole(t.deps, rnd.pick(actors), { userId: user.id, roleId });
          user.version = r.version;
          user.roles.delete(roleId);
        } else if (dice < 90) {
          const role = rnd.pick(liveRoles);
          const r = await updateRole(t.deps, rnd.pick(actors), { roleId: role.id, expectedVersion: role.version, name: `role ${step}` });
          role.version = r.version;
        } else if (dice < 95 && liveRoles.length > 2) {
          const role = rnd.pick(liveRoles);
          await deleteRole(t.deps, rnd.pick(actors), { roleId: role.id, expectedVersion: role.version });
          role.live = false;
          for (const u of users) {
            if (u.roles.delete(role.id)) u.version++;
          }
          await newRole();
        } else if (users.filter((u) => u.live).length > 5) {
          await deleteUser(t.deps, rnd.pick(actors), { userId: user.id, expectedVersion: user.version });
          user.live = false;
        }
      } catch (error) {
        if (!isDomainError(error)) throw error;
        throw new Error(`seed ${seed}, step ${step}: ${error.message}`);
      }
    }
    await waitUntilCaughtUp(t);

    const events = await readEvents(t);
    const { users: userLines, roles: roleLines } = foldTimelines(events);
    const times = events.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
    const first = times[0]!;
    const last = times.at(-1)!;
    // Instants: random ones, and exactly at, just before and just after events (where off-by-ones live).
    const instant = () => {
      const kind = rnd.int(4);
      const at = rnd.pick(times);
      return kind === 0 ? first - 1000 + rnd.int(last - first + 2000) : kind === 1 ? at : kind === 2 ? at - 1 : at + 1;
    };
    const context = `seed ${seed}`;

    for (let check = 0; check < 40; check++) {
      const role = rnd.pick(roles);
      const a = instant();
      const b = instant();
      const q: AccessReviewQuery = { roleId: role.id, from: new Date(Math.min(a, b)), to: new Date(Math.max(a, b)) };
      const F = q.from.getTime();
      const T = q.to.getTime();

      // Members in the period: held at F, or at any instant in (F, T] where some event took effect.
      const expected = [...userLines]
        .filter(([, line]) => holds(stateAt(line, F), role.id) || line.some((p) => p.at > F && p.at <= T && holds(p.state, role.id)))
        .map(([id]) => id)
        .sort();
      const rows = [];
      for await (const m of streamMembersInPeriod(t.db, q, 7)) rows.push(m); // small pages: the keyset is exercised
      expect([...new Set(rows.map((r) => r.userId))].sort(), `${context}: members of ${role.id} in [${q.from.toISOString()}, ${q.to.toISOString()}]`).toEqual(expected);
      const page = await listMembersInPeriod(t.db, q);
      expect(page.total, context).toBe(rows.length); // far below the cap here
      // Each row is an uninterrupted holding: held from its start, not just before it, and until its end.
      for (const r of rows) {
        const line = userLines.get(r.userId)!;
        const from = Date.parse(r.heldFrom);
        expect(holds(stateAt(line, from), role.id) || r.heldUntil === r.heldFrom, context).toBe(true);
        expect(holds(stateAt(line, from - 1), role.id), context).toBe(false);
        if (r.heldUntil) expect(holds(stateAt(line, Date.parse(r.heldUntil)), role.id), context).toBe(false);
      }

      // The member count at each point of the chart.
      const series = await memberCountSeries(t.db, q, 1 + rnd.int(12));
      expect(series[0]!.at).toBe(q.from.toISOString());
      expect(series.at(-1)!.at).toBe(q.to.toISOString());
      for (const point of series) {
        const at = Date.parse(point.at);
        const count = [...userLines.values()].filter((line) => holds(stateAt(line, at), role.id)).length;
        expect(point.count, `${context}: count of ${role.id} at ${point.at}`).toBe(count);
      }
    }

    for (let check = 0; check < 40; check++) {
      const user = rnd.pick(users);
      const at = instant();
      const state = stateAt(userLines.get(user.id)!, at);
      const expected = Object.keys(state && !state.isDeleted ? state.roles : {})
        .map((roleId) => ({ roleId, nameAt: stateAt(roleLines.get(roleId)!, at)!.name }))
        .sort((x, y) => x.roleId.localeCompare(y.roleId));
      const held = await rolesHeldAt(t.db, user.id, new Date(at));
      expect(
        held.map((h) => ({ roleId: h.roleId, nameAt: h.nameAt })).sort((x, y) => x.roleId.localeCompare(y.roleId)),
        `${context}: roles of ${user.id} at ${new Date(at).toISOString()}`,
      ).toEqual(expected);
    }
  }, 60_000);
});
