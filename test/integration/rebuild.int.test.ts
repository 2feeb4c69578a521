/**
 * Zero-downtime rebuild on the real broker and PostgreSQL: replay into a
 * shadow schema while commands and page reads go on, compare at equal
 * offsets, swap atomically, and let the live projector carry on.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@/lib/log";
import { runInThread } from "@/lib/process/thread";
import type { Projector } from "@/lib/projection/projector";
import { runRebuild, type RebuildOutcome, type RebuildPhase } from "@/lib/projection/rebuild/rebuild";
import { cancelRebuild, requestRebuild, startRebuildPoller, type RebuildJob } from "@/lib/projection/rebuild/rebuild-jobs";
import { tableChecksums } from "@/lib/projection/rebuild/shadow-schema";
import { createRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, recordLogin, updateUser } from "@/modules/users/application/user-commands";
import { createTestContext, eventually, expectModelEqualsLog, leftoverRebuildSchemas, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";
import { app } from "@/modules";

let t: TestContext;
let projector: Projector;

beforeAll(async () => {
  t = await createTestContext("rebuild");
  projector = await startProjector(t);
  const roles = [];
  for (const name of ["ops", "support", "billing"]) roles.push((await createRole(t.deps, t.ctx, { name })).aggregateId);
  for (let i = 0; i < 60; i++) {
    const u = await createUser(t.deps, t.ctx, { email: `seed${i}@example.com`, name: `Seed ${i}` });
    await assignRole(t.deps, t.ctx, { userId: u.aggregateId, roleId: roles[i % roles.length] });
    if (i % 3 === 0) await updateUser(t.deps, t.ctx, { userId: u.aggregateId, expectedVersion: 2, name: `Seed ${i} renamed` });
    if (i % 4 === 0) await recordLogin(t.deps, t.ctx, { userId: u.aggregateId, ip: "203.0.113.9", userAgent: "test" });
  }
  await waitUntilCaughtUp(t);
}, 120_000);

afterAll(async () => {
  await projector?.stop();
  await t?.close();
});

/** The read-model tables' shape: columns, constraints and indexes as PostgreSQL prints them, and their OIDs. */
async function shape() {
  const tables = [...app.readModelTables];
  const columns = await t.db.$queryRaw<{ table: string; column: string; type: string; collation: string | null }[]>`
    SELECT table_name AS table, column_name AS column, data_type AS type, collation_name AS collation
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(${tables}) ORDER BY 1, ordinal_position`;
  const constraints = await t.db.$queryRaw<{ name: string; def: string }[]>`
    SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
    WHERE conrelid::regclass::text = ANY(${tables}) ORDER BY 1`;
  const indexes = await t.db.$queryRaw<{ def: string }[]>`
    SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(${tables}) ORDER BY indexname`;
  // Storage parameters too: users keeps its fillfactor (the projector's HOT updates) through a
  // switch, and a table its own autovacuum setting, on it and its TOAST table.
  const storage = await t.db.$queryRaw<{ table: string; options: string[] | null; toast: string[] | null }[]>`
    SELECT c.relname AS table, c.reloptions AS options, (SELECT reloptions FROM pg_class x WHERE x.oid = c.reltoastrelid) AS toast
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(${tables}) ORDER BY c.relname`;
  const oids = await t.db.$queryRaw<{ oid: number }[]>`
    SELECT oid::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY(${tables}) ORDER BY relname`;
  return { definition: { columns, constraints, indexes, storage }, oids: oids.map((o) => o.oid) };
}

describe("rebuild", () => {
  it("rebuilds while commands and reads go on, checks at equal offsets, switches atomically", async () => {
    // An operator's per-table autovacuum tuning, which the shadow's own setting (off until the switch) must not replace.
    await t.db.$executeRaw`ALTER TABLE user_events SET (autovacuum_enabled = true, toast.autovacuum_enabled = true)`;
    const before = await shape();
    expect(before.definition.storage.find((s) => s.table === "users")?.options).toEqual(["fillfactor=80"]);
    expect(before.definition.storage.find((s) => s.table === "user_events")).toMatchObject({
      options: ["autovacuum_enabled=true"],
      toast: ["autovacuum_enabled=true"],
    });
    // Commands keep arriving during the whole rebuild; pages keep reading.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await createUser(t.deps, t.ctx, { email: `during${written}@example.com`, name: `During ${written}` });
        written++;
      }
    })();
    let reading = true;
    const readCounts: number[] = [];
    const readErrors: unknown[] = [];
    const reader = (async () => {
      while (reading) {
        try {
          readCounts.push(await t.db.user.count());
        } catch (error) {
          readErrors.push(error);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const phases = new Set<RebuildPhase>();
    // While the shadow tables are written and checked, autovacuum is off on them (it would only hold up the switch).
    let shadowStorage: Array<{ table: string; options: string[] | null }> = [];
    const outcome = await runRebuild({
      db: t.db,
      config: t.config,
      app,
      kafka: t.kafka,
      logger: silentLogger,
      closeEnough: 20,
      runId: "switch",
      onProgress: async (p) => {
        phases.add(p.phase);
        expect(p.done).toBeLessThanOrEqual(p.total);
        if (p.phase === "verifying" && shadowStorage.length === 0) {
          shadowStorage = await t.db.$queryRaw`
            SELECT relname AS table, reloptions AS options FROM pg_class
            WHERE relnamespace = 'read_model_rebuild'::regnamespace AND relkind = 'r' ORDER BY relname COLLATE "C"`;
        }
      },
    });
    writing = false;
    await writer;
    reading = false;
    await reader;

    expect(outcome.status, outcome.message).toBe("switched");
    expect(outcome.message).toMatch(new RegExp(`^Switched: [\\d,]+ rows in ${app.readModelTables.length} tables, equal to the live model`));
    // The operator sees how long new events waited for the swap (the pages' pause).
    expect(outcome.message).toMatch(/ New events waited [\d,]+ ms for the swap\.$/);
    if (outcome.status !== "switched") return;
    expect(outcome.comparison.every((c) => c.equal)).toBe(true);
    expect(outcome.comparison.find((c) => c.table === "users")!.rebuilt.rows).toBeGreaterThanOrEqual(60);
    expect([...phases]).toEqual(expect.arrayContaining(["catching-up", "indexing", "verifying"]));
    expect(shadowStorage.map((s) => s.table)).toEqual([...app.readModelTables].sort());
    for (const { options } of shadowStorage) expect(options).toContain("autovacuum_enabled=false");
    expect(written).toBeGreaterThan(0);

    // Zero downtime: every read during the rebuild and the switch answered, and never went backwards.
    expect(readErrors).toEqual([]);
    expect(readCounts.length).toBeGreaterThan(10);
    for (let i = 1; i < readCounts.length; i++) expect(readCounts[i]).toBeGreaterThanOrEqual(readCounts[i - 1]!);

    // New tables, same shape as the migrations made, nothing left behind.
    const after = await shape();
    expect(after.definition).toEqual(before.definition);
    expect(after.oids).not.toEqual(before.oids);
    expect(await leftoverRebuildSchemas(t)).toEqual([]);
    const groups = (await t.admin.listGroups()).groups.map((g) => g.groupId);
    expect(groups).not.toContain(`${t.config.PROJECTOR_GROUP_ID}.rebuild.switch`);

    // The live projector carries on in the new tables from the positions the switch compared.
    const late = await createUser(t.deps, t.ctx, { email: "after-switch@example.com", name: "After Switch" });
    await expectModelEqualsLog(t);
    expect(await t.db.user.findUnique({ where: { id: late.aggregateId } })).toMatchObject({ name: "After Switch" });
  }, 180_000);

  it("refuses to switch when the live model differs from the log, and says where", async () => {
    const victim = await t.db.user.findFirstOrThrow({ where: { email: "seed1@example.com" } });
    await t.db.$executeRaw`UPDATE users SET name = 'Drifted' WHERE id = ${victim.id}::uuid`;

    const refused = await runRebuild({ db: t.db, config: t.config, app, kafka: t.kafka, logger: silentLogger, closeEnough: 20 });
    expect(refused.status).toBe("refused");
    const n = (await t.db.user.count()).toLocaleString("en-US");
    expect(refused.message).toBe(`Not switched: users differs (live ${n} rows, rebuilt ${n} rows: same count, other content).`);
    if (refused.status !== "refused") return;
    expect(refused.comparison.filter((c) => !c.equal).map((c) => c.table)).toEqual(["users"]);
    // Untouched: the drift is still there, nothing is left behind.
    expect((await t.db.user.findUniqueOrThrow({ where: { id: victim.id } })).name).toBe("Drifted");
    expect(await leftoverRebuildSchemas(t)).toEqual([]);

    // Asked to accept differences (as after a fix to the projection code), it switches and the drift is gone.
    const accepted = await runRebuild({
      db: t.db,
      config: t.config,
      app,
      kafka: t.kafka,
      logger: silentLogger,
      closeEnough: 20,
      acceptDifferences: true,
    });
    expect(accepted.status).toBe("switched");
    expect(accepted.message).toMatch(/^Switched with differences \(accepted\): users differs/);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: victim.id } })).name).toBe("Seed 1");
    await expectModelEqualsLog(t);
  }, 180_000);

  it("checksums a table by its rows' values, in any order, telling apart what the rows' text told apart", async () => {
    const schemas = ["checksum_a", "checksum_b"];
    for (const schema of schemas) {
      await t.db.$executeRawUnsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await t.db.$executeRawUnsafe(`CREATE SCHEMA ${schema}`);
      await t.db.$executeRawUnsafe(`CREATE TABLE ${schema}.facts (id uuid, n int, at timestamptz, doc jsonb, tags text[])`);
    }
    const fill = (schema: string, rows: string[]) => t.db.$executeRawUnsafe(`TRUNCATE ${schema}.facts; INSERT INTO ${schema}.facts VALUES ${rows.join(", ")}`);
    const sums = async () => (await Promise.all(schemas.map((schema) => tableChecksums(t.db, schema, "g", ["facts"])))).map(([c]) => c!);
    const one = `('00000000-0000-4000-8000-000000000001', 1, '2026-12-01 10:00:00+00', '{"n": 1.0, "s": "x"}', '{a,b}')`;
    const two = `('00000000-0000-4000-8000-000000000002', NULL, NULL, NULL, NULL)`;
    try {
      // The same rows in another order, the same instant written in another zone: equal.
      await fill("checksum_a", [one, two]);
      await fill("checksum_b", [two, one.replace("10:00:00+00", "11:00:00+01")]);
      const [a, b] = await sums();
      expect(a!.rows).toBe(2);
      expect(b).toEqual(a);
      // What the row's text told apart still differs: a number's scale in a document, an array's element, a value.
      for (const changed of [one.replace("1.0", "1"), one.replace("{a,b}", "{a,c}"), one.replace("1, '2026", "2, '2026"), one.replace("0001'", "0003'")]) {
        await fill("checksum_b", [changed, two]);
        const [a2, b2] = await sums();
        expect(b2!.rows).toBe(a2!.rows);
        expect(b2!.sum).not.toBe(a2!.sum);
      }
    } finally {
      for (const schema of schemas) await t.db.$executeRawUnsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it("runs one rebuild of a read model at a time, whoever starts a second one", async () => {
    const run = () => runRebuild({ db: t.db, config: t.config, app, kafka: t.kafka, logger: silentLogger, closeEnough: 20 });
    const outcomes = await Promise.all([run(), run()]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["failed", "switched"]);
    expect(outcomes.find((o) => o.status === "failed")!.message).toBe(
      "Another rebuild of this read model is still running in some process; nothing was changed.",
    );
    expect(await leftoverRebuildSchemas(t)).toEqual([]);
    await expectModelEqualsLog(t);
  }, 180_000);

  it("runs requests from the console one at a time in a projector worker, and cancels", async () => {
    const group = t.config.PROJECTOR_GROUP_ID;
    // A request waiting for a runner is cancelled at once.
    const waiting = await requestRebuild(t.db, { group, requestedBy: "ops@example.com", acceptDifferences: false });
    await expect(requestRebuild(t.db, { group, requestedBy: "other@example.com", acceptDifferences: false })).rejects.toThrow(
      `Rebuild #${waiting.id} is already waiting to start (asked for by ops@example.com)`,
    );
    await cancelRebuild(t.db, group, waiting.id, "ops@example.com");
    expect(await t.db.readModelRebuild.findUniqueOrThrow({ where: { id: waiting.id } })).toMatchObject({
      status: "cancelled",
      message: "Cancelled by ops@example.com before it started.",
    });
    await expect(cancelRebuild(t.db, group, waiting.id, "ops@example.com")).rejects.toThrow("has already finished");

    // A projector worker's poller claims the next one and records progress and the outcome; it runs
    // it as the projector worker does, in a thread of its own (workers/rebuild-thread.ts), here
    // with REBUILD_NICE=10 to see that the thread's priority, and only the thread's, is lowered.
    const threadNices = new Set<number>();
    const pollerRunning = (execute: (job: RebuildJob) => Promise<RebuildOutcome>) =>
      startRebuildPoller({ db: t.db, config: t.config, app, logger: silentLogger, runner: "test-worker", intervalMs: 100, execute });
    const poller = pollerRunning((job) =>
      runInThread<RebuildJob, RebuildOutcome>(new URL("../../workers/rebuild-thread.ts", import.meta.url), job, {
        nice: 10,
        env: { ...process.env, ...t.env, LOG_LEVEL: process.env.DEBUG_PROJECTOR ? "info" : "warn" },
      }),
    );
    try {
      const request = await requestRebuild(t.db, { group, requestedBy: "ops@example.com", acceptDifferences: false });
      const deadline = Date.now() + 120_000;
      let row = await t.db.readModelRebuild.findUniqueOrThrow({ where: { id: request.id } });
      let sawRunning = false;
      while (["requested", "running"].includes(row.status) && Date.now() < deadline) {
        if (row.status === "running") {
          sawRunning = true;
          expect(row.runner).toBe("test-worker");
          for (const n of taskNices()) threadNices.add(n);
        }
        await new Promise((r) => setTimeout(r, 50));
        row = await t.db.readModelRebuild.findUniqueOrThrow({ where: { id: request.id } });
      }
      expect(row.status, row.message ?? "").toBe("switched");
      expect(sawRunning).toBe(true);
      expect(row.eventsDone).toBeGreaterThan(0n);
      // At the switch: every message up to the live positions.
      expect(row.eventsDone).toBe(row.eventsTotal);
      expect(row.finishedAt).not.toBeNull();
      expect(row.checksums).toHaveLength(app.readModelTables.length);
      // While it ran, one thread of this process ran 10 below the main thread's priority (Linux).
      if (process.platform === "linux") expect([...threadNices]).toContain(Math.min(19, taskNices()[0]! + 10));
    } finally {
      await poller.stop();
    }
    await expectModelEqualsLog(t);

    // A runner that ends without an outcome (its thread died) leaves the job failed, not running.
    const dying = pollerRunning(async () => {
      throw new Error("the thread stopped (exit code 1) before it answered");
    });
    try {
      const request = await requestRebuild(t.db, { group, requestedBy: "ops@example.com", acceptDifferences: false });
      const row = await eventually(
        () => t.db.readModelRebuild.findUniqueOrThrow({ where: { id: request.id } }),
        (r) => r.status === "failed",
      );
      expect(row).toMatchObject({ status: "failed", message: "Failed: the thread stopped (exit code 1) before it answered" });
      expect(row.finishedAt).not.toBeNull();
    } finally {
      await dying.stop();
    }
  }, 180_000);
});

/** The nice value of each thread of this process, the main thread first (/proc/self/task/<tid>/stat, field 19). */
function taskNices(): number[] {
  const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
  const others = readdirSync("/proc/self/task").filter((tid) => tid !== String(process.pid));
  return [niceOf(String(process.pid)), ...others.map(niceOf)];
}
