/**
 * The rebuild's bulk path (lib/projection/rebuild/bulk-load.ts) on the real
 * broker and PostgreSQL, over a history that touches every table: renames,
 * logins, deleted users, roles assigned, unassigned and assigned again, a
 * deleted role (its members' intervals end "role-deleted"), an erased person
 * whose events another service wrote in clear, a duplicate message, a
 * malformed one and one that cannot apply. Its tables must equal the live
 * ones, which the per-batch path built (the rebuild's own verification,
 * every table), and the log's fold; the per-batch replay must then equal
 * what the bulk path built (the first bulk rebuild decodes on two threads of
 * its own, as a projector worker's does; the others on the fold's thread). A
 * cancelled bulk load leaves nothing behind and the next run switches; events
 * arriving meanwhile are caught up.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@/lib/log";
import { ERASED } from "@/lib/privacy/personal-data";
import type { PersonalDataKeys } from "@/lib/privacy/key-store";
import type { Projector } from "@/lib/projection/projector";
import { rebuildDecoder } from "@/workers/rebuild-decoder";
import { runRebuild, type RebuildOptions, type RebuildOutcome } from "@/lib/projection/rebuild/rebuild";
import { eraseUser } from "@/modules/privacy/application/erase-person";
import { createRole, deleteRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser, recordLogin, unassignRole, updateUser } from "@/modules/users/application/user-commands";
import { app } from "@/modules";
import { createTestContext, expectModelEqualsLog, leftoverRebuildSchemas, externalUserCreated, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";

let t: TestContext;
let projector: Projector;
let clearPersonId: string;

beforeAll(async () => {
  t = await createTestContext("bulkrebuild");
  projector = await startProjector(t);
  const ops = (await createRole(t.deps, t.ctx, { name: "ops" })).aggregateId;
  const support = (await createRole(t.deps, t.ctx, { name: "support" })).aggregateId;
  const temp = (await createRole(t.deps, t.ctx, { name: "temp" })).aggregateId;
  for (let i = 0; i < 40; i++) {
    const userId = (await createUser(t.deps, t.ctx, { email: `Bulk${i}@Example.com`, name: `Bulk ${i}` })).aggregateId;
    let version = 1;
    await assignRole(t.deps, t.ctx, { userId, roleId: ops });
    version++;
    if (i % 2 === 0) {
      await assignRole(t.deps, t.ctx, { userId, roleId: temp });
      version++;
    }
    if (i % 3 === 0) {
      await unassignRole(t.deps, t.ctx, { userId, roleId: ops });
      await assignRole(t.deps, t.ctx, { userId, roleId: ops });
      await assignRole(t.deps, t.ctx, { userId, roleId: support });
      version += 3;
    }
    if (i % 4 === 0) {
      await updateUser(t.deps, t.ctx, { userId, expectedVersion: version, name: `Bulk ${i} renamed` });
      version++;
    }
    if (i % 5 === 0) {
      await recordLogin(t.deps, t.ctx, { userId, ip: "203.0.113.5", userAgent: "test" });
      version++;
    }
    if (i % 7 === 0) await deleteUser(t.deps, t.ctx, { userId, expectedVersion: version });
  }
  await deleteRole(t.deps, t.ctx, { roleId: temp, expectedVersion: 1 });

  // Another service's events, in clear: a person later erased, a duplicate, garbage, one that cannot apply.
  clearPersonId = randomUUID();
  const clearPerson = externalUserCreated(clearPersonId, "clear.person@example.com", "Clear Person");
  const twin = externalUserCreated(randomUUID(), "twin@example.com");
  const orphan = { ...externalUserCreated(randomUUID(), "orphan@example.com"), type: "UserUpdated", sequence: 2, payload: { name: "Nobody" } };
  const producer = t.kafka.producer();
  await producer.connect();
  await producer.send({
    topic: t.topics.users,
    messages: [
      { key: clearPersonId, value: JSON.stringify(clearPerson) },
      { key: twin.aggregateId, value: JSON.stringify(twin) },
      { key: twin.aggregateId, value: JSON.stringify(twin) },
      { key: orphan.aggregateId, value: JSON.stringify(orphan) },
      { key: randomUUID(), value: "{not json" },
    ],
  });
  await producer.disconnect();
  await waitUntilCaughtUp(t);
  await eraseUser(t.deps, t.ctx, { userId: clearPersonId, reason: "bulk rebuild test" });
  await waitUntilCaughtUp(t);
}, 180_000);

afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

const DECODE_THREADS = rebuildDecoder(2);

/** A rebuild of this file's model, as the console's would run it, with `options` on top. */
const rebuild = (options: Partial<RebuildOptions> = {}) =>
  runRebuild({ db: t.db, config: t.config, app, kafka: t.kafka, logger: silentLogger, closeEnough: 20, ...options });

function expectSwitchedEqual(outcome: RebuildOutcome) {
  expect(outcome.status, outcome.message).toBe("switched");
  if (outcome.status !== "switched") return;
  expect(outcome.comparison.filter((c) => !c.equal)).toEqual([]);
  expect(outcome.comparison.map((c) => c.table).sort()).toEqual([...app.readModelTables].sort());
}

describe("bulk rebuild", () => {
  it("builds every table equal to the per-batch path's and to the log's fold, while commands go on", async () => {
    // The history reached every table the bulk path writes.
    const intervals = await t.db.$queryRaw<{ end_reason: string | null; n: number }[]>`
      SELECT end_reason, count(*)::int AS n FROM role_membership_intervals GROUP BY 1`;
    expect(intervals.map((r) => r.end_reason).sort()).toEqual(["role-deleted", "unassigned", "user-deleted", null].sort());
    expect(await t.db.user.count({ where: { isDeleted: true } })).toBeGreaterThanOrEqual(6);

    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await createUser(t.deps, t.ctx, { email: `during.bulk${written}@example.com`, name: `During ${written}` });
        written++;
      }
    })();
    // The COPYs froze what they wrote: the index builds' ANALYZE found all-visible pages, which
    // nothing else makes before a VACUUM (and autovacuum is off on the shadow tables until the
    // switch). Not necessarily every page: one CI run under load counted 10 of user_events' 18.
    let shadowPages: Array<{ table: string; pages: number; visible: number }> = [];
    const bulk = await rebuild({
      runId: "bulk",
      // Decoded on two threads while this one folds, as a projector worker's rebuild does.
      decoder: DECODE_THREADS,
      onProgress: async (p) => {
        if (p.phase !== "verifying" || shadowPages.length) return;
        shadowPages = await t.db.$queryRaw`
          SELECT relname AS table, relpages AS pages, relallvisible AS visible FROM pg_class
          WHERE relnamespace = 'read_model_rebuild'::regnamespace AND relkind = 'r' ORDER BY relname`;
      },
    });
    writing = false;
    await writer;
    expectSwitchedEqual(bulk);
    const filled = shadowPages.filter((s) => s.pages > 0);
    expect(filled.map((s) => s.table)).toEqual(expect.arrayContaining(["users", "user_events", "user_roles", "role_membership_intervals"]));
    for (const s of filled) expect(s.visible, s.table).toBeGreaterThan(0);
    expect(bulk.status === "switched" && bulk.bulkMessages).toBeGreaterThan(150);
    expect(written).toBeGreaterThan(0);
    expect(await leftoverRebuildSchemas(t)).toEqual([]);
    // The live projector carries on in the new tables: what came during and after the rebuild is there.
    const late = await createUser(t.deps, t.ctx, { email: "after.bulk@example.com", name: "After Bulk" });
    await expectModelEqualsLog(t);
    expect(await t.db.user.findUnique({ where: { id: late.aggregateId } })).toMatchObject({ name: "After Bulk" });
    expect(await t.db.user.count({ where: { email: { startsWith: "during.bulk" } } })).toBe(written);
    // Mixed-case emails were lowered as the projector lowers them.
    expect(await t.db.user.count({ where: { email: "Bulk1@Example.com", emailLower: "bulk1@example.com" } })).toBe(1);

    // The other way round: the per-batch replay equals the model the bulk path built.
    const perBatch = await rebuild({ bulk: false });
    expectSwitchedEqual(perBatch);
    expect(perBatch.status === "switched" && perBatch.bulkMessages).toBe(0);
    await expectModelEqualsLog(t);
  }, 240_000);

  it("scrubs an erasure whose person's data it read in clear, as the per-batch path does", async () => {
    // As if every batch's key ring had been read before the erasure: the bulk load folds the clear
    // person's events in clear, and only its scrub of the UserErased it met can make the tables equal.
    const ignoringErasures: PersonalDataKeys = {
      ...t.personalData,
      async ring(q, wanted) {
        const ring = await t.personalData.ring(q, wanted);
        return { key: ring.key, isErased: () => false };
      },
    };
    const outcome = await rebuild({ personalData: ignoringErasures });
    expectSwitchedEqual(outcome);
    expect(await t.db.user.findUniqueOrThrow({ where: { id: clearPersonId } })).toMatchObject({ email: ERASED, name: ERASED, isDeleted: true });
    const rows = await t.db.userEvent.findMany({ where: { userId: clearPersonId } });
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(rows.map((r) => [r.payload, r.changes, r.actor]))).not.toContain("clear.person@example.com");
  }, 120_000);

  it("a rebuild cancelled during its bulk load leaves the live model untouched, and the next one switches", async () => {
    const before = await t.db.$queryRaw<{ oid: number }[]>`SELECT 'public.users'::regclass::oid::int AS oid`;
    const cancelled = await rebuild({ decoder: DECODE_THREADS, onProgress: async (p) => (p.phase === "catching-up" ? "cancel" : undefined) });
    expect(cancelled).toEqual({ status: "cancelled", message: "Cancelled before the switch; the live read model is unchanged." });
    expect(await leftoverRebuildSchemas(t)).toEqual([]);
    expect(await t.db.$queryRaw<{ oid: number }[]>`SELECT 'public.users'::regclass::oid::int AS oid`).toEqual(before);
    await expectModelEqualsLog(t);

    const again = await rebuild();
    expectSwitchedEqual(again);
    await expectModelEqualsLog(t);
  }, 120_000);
});
