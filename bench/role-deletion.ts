/**
 * Deleting a role held by many users, and a bulk assignment (issue 15):
 * `npm run bench -- --role-deletion-only [--full]`, or as part of any run.
 *
 * What it measures, on the real command path (`deleteRole`, `assignRole`), with
 * personal data sealed as the console does (a user actor, so every event carries
 * the actor's sealed email and name):
 *
 * - the deletion of a role held by `members` of `users` users: wall time until
 *   RoleDeleted is acknowledged, events/s (RoleUnassignedFromUser per member), the
 *   process' peak RSS and heap (sampled every 50 ms, beside the same figures just
 *   before), and the latency of createUser commands offered at `rate`/s in an open
 *   loop while it runs (from each call's scheduled start: p50, p99, errors), beside the same
 *   rate for 10 s just before with no deletion running (the baseline, same run);
 * - a bulk assignment to `bulk` users through the bulk actions' path: the users
 *   table's "Assign" runs one `assignRoleAction` per user, one after another, each
 *   `assignRole` on the application layer; here the same calls, without the HTTP
 *   round trip and the read-your-writes wait of each action.
 *
 * The command side is seeded with SQL, not through a million commands: the head
 * rows in `streams` (what `deleteRole` reads and locks) for `users` users, the
 * first `members` of them holding the role, as a fold of UserCreated +
 * RoleAssignedToUser leaves them. The read model and the projector are not
 * involved: what is measured is the command side (the console's answer); the
 * projector's throughput on these events is the projector figure's. The role
 * and the actor are created through the real commands.
 */
import type { Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createDb } from "@/lib/db";
import { createEventAppender } from "@/lib/kafka/producer";
import { topicName } from "@/lib/kafka/topics";
import { createPersonalDataKeys } from "@/lib/privacy/key-store";
import type { CommandContext, CommandDeps } from "@/lib/command/execute";
import { createRole, deleteRole } from "@/modules/roles/application/role-commands";
import { BULK_ROLE_BATCH, changeRoleOfUsers } from "@/modules/users/application/bulk-roles";
import { assignRole, createUser } from "@/modules/users/application/user-commands";
import { openLoop, type Databases, type Log } from "./measure";
import { hr, percentile } from "./stats";

/** Users per changeRoleOfUsers call: what the console's bulk actions send. */
const BULK_CHUNK = BULK_ROLE_BATCH;
/** Users given a role one assignRole after another: the baseline's size (it ran at ~64/s). */
const BASELINE_USERS = 500;

export interface RoleDeletionRun {
  users: number;
  members: number;
  seedMs: number;
  /** Until RoleDeleted was acknowledged; null if the deletion failed. */
  deleteMs: number | null;
  error: string | null;
  /** RoleUnassignedFromUser events appended (from the topic's end offsets). */
  unassigned: number;
  eventsPerSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  heapBeforeMiB: number;
  peakHeapMiB: number;
  /** createUser offered at `rate`/s during the deletion. */
  concurrent: { rate: number; count: number; p50: number; p99: number; max: number; errors: number };
  /** The same createUser rate just before, with no deletion running. */
  quiet: { p50: number; p99: number };
  bulk: { users: number; ms: number; eventsPerSecond: number; errors: number };
  /** The baseline: assignRole one after another, for the first BASELINE_USERS of the bulk's users. */
  oneByOne: { users: number; ms: number; eventsPerSecond: number; errors: number };
}

const MiB = 2 ** 20;

export async function measureRoleDeletion(opts: {
  dbs: Databases;
  name: string;
  config: KafkaConfig;
  kafka: Kafka;
  users: number;
  members: number;
  bulkUsers: number;
  rate: number;
  log: Log;
}): Promise<RoleDeletionRun> {
  const { log } = opts;
  const url = await opts.dbs.fresh(opts.name);
  const db = createDb(url);
  const writer = createDb(url, { poolSize: 4 });
  const keys = createPersonalDataKeys(db, keyWrapperFromEnv(), { writer });
  const appender = createEventAppender(opts.config, { personalData: keys });
  const deps: CommandDeps = { db, appender };
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const system: CommandContext = { actor: { kind: "service", name: "bench" } };
    const adminUser = await createUser(deps, system, { email: "role-deletion.admin@bench.example.com", name: "Bench Admin" });
    const ctx: CommandContext = {
      actor: { kind: "user", userId: adminUser.aggregateId, email: "role-deletion.admin@bench.example.com", name: "Bench Admin" },
    };
    const role = await createRole(deps, ctx, { name: "Doomed", description: "deleted by the bench" });
    const bulkRole = await createRole(deps, ctx, { name: "Bulk", description: "assigned in bulk by the bench" });
    const baselineRole = await createRole(deps, ctx, { name: "One by one", description: "assigned one user at a time by the bench" });

    let t = hr();
    await seedUserHeads(url, opts.users, opts.members, role.aggregateId);
    const seedMs = hr() - t;
    log(`role deletion: seeded ${opts.users.toLocaleString()} user heads, ${opts.members.toLocaleString()} holding the role, in ${(seedMs / 1000).toFixed(1)} s`);

    const usersTopic = topicName("users", opts.config);
    const endOf = async () => (await admin.fetchTopicOffsets(usersTopic)).reduce((n, p) => n + Number(p.high), 0);

    // --- baseline: createUser at the same rate with no deletion running (same run) -----
    const quiet = await openLoop(opts.rate, 10_000, 2_000, async (i) => {
      await createUser(deps, system, { email: `quiet.${i}@bench.example.com`, name: `Quiet ${i}` });
    });
    log(`createUser at ${opts.rate}/s, no deletion: p50 ${percentile(quiet.latencies, 50).toFixed(1)} ms, p99 ${percentile(quiet.latencies, 99).toFixed(1)} ms`);

    // --- the deletion, with createUser at the same rate beside it, memory sampled -----
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const end0 = await endOf();
    let running = true;
    let created = 0;
    const latencies: number[] = [];
    let concurrentErrors = 0;
    const concurrent = (async () => {
      // Open loop, measured from the scheduled start, until the deletion ends.
      for (let round = 0; running; round++) {
        const res = await openLoop(opts.rate, 2_000, 0, async (i) => {
          await createUser(deps, system, { email: `during.${round}.${i}@bench.example.com`, name: `During ${round} ${i}` });
          created++;
        });
        latencies.push(...res.latencies);
        concurrentErrors += res.errors.length;
      }
    })();
    t = hr();
    let deleteMs: number | null = null;
    let error: string | null = null;
    try {
      await deleteRole(deps, ctx, { roleId: role.aggregateId, expectedVersion: 1 });
      deleteMs = hr() - t;
    } catch (e) {
      error = `after ${((hr() - t) / 1000).toFixed(1)} s: ${(e as Error).message.replace(/\s+/g, " ").slice(0, 300)}`;
    }
    const elapsed = hr() - t;
    running = false;
    await concurrent;
    clearInterval(sampler);
    const unassigned = (await endOf()) - end0 - created;
    log(`role deletion: ${error ? `FAILED ${error}` : `${(elapsed / 1000).toFixed(1)} s`}, ${unassigned.toLocaleString()} unassignments, createUser p99 ${percentile(latencies, 99).toFixed(1)} ms`);

    // --- a bulk assignment through the bulk actions' path: changeRoleOfUsers, one call per chunk of
    // BULK_CHUNK users as the users table sends them (without the HTTP round trip and the action's
    // read-your-writes wait); beside it, the same users' first BASELINE_USERS of another role one
    // assignRole after another (the path before issue 15), in the same run ---
    const bulkIds = await pickUsers(url, opts.bulkUsers, opts.members);
    let bulkErrors = 0;
    let bulkChanged = 0;
    t = hr();
    for (let i = 0; i < bulkIds.length; i += BULK_CHUNK) {
      try {
        const r = await changeRoleOfUsers(deps, ctx, { roleId: bulkRole.aggregateId, change: "assign", userIds: bulkIds.slice(i, i + BULK_CHUNK) });
        for (const u of r.results) {
          if (u.outcome === "changed") bulkChanged++;
          else if (u.outcome === "failed" && bulkErrors++ === 0) log(`bulk assignment: first failure: ${u.message}`);
        }
      } catch (e) {
        if (bulkErrors === 0) log(`bulk assignment: first error: ${String(e).slice(0, 300)}`);
        bulkErrors += Math.min(BULK_CHUNK, bulkIds.length - i);
      }
    }
    const bulkMs = hr() - t;
    log(`bulk assignment: ${bulkIds.length.toLocaleString()} users in ${(bulkMs / 1000).toFixed(1)} s`);
    const oneByOneIds = bulkIds.slice(0, BASELINE_USERS);
    let oneByOneErrors = 0;
    t = hr();
    for (const userId of oneByOneIds) {
      await assignRole(deps, ctx, { userId, roleId: baselineRole.aggregateId }).catch((e: unknown) => {
        if (oneByOneErrors++ === 0) log(`one assignRole after another: first error: ${String(e).slice(0, 300)}`);
      });
    }
    const oneByOneMs = hr() - t;

    return {
      users: opts.users,
      members: opts.members,
      seedMs,
      deleteMs,
      error,
      unassigned,
      eventsPerSecond: unassigned / (elapsed / 1000),
      rssBeforeMiB: before.rss / MiB,
      peakRssMiB: peakRss / MiB,
      heapBeforeMiB: before.heapUsed / MiB,
      peakHeapMiB: peakHeap / MiB,
      concurrent: {
        rate: opts.rate,
        count: latencies.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: Math.max(0, ...latencies),
        errors: concurrentErrors,
      },
      quiet: { p50: percentile(quiet.latencies, 50), p99: percentile(quiet.latencies, 99) },
      bulk: { users: bulkIds.length, ms: bulkMs, eventsPerSecond: bulkChanged / (bulkMs / 1000), errors: bulkErrors },
      oneByOne: { users: oneByOneIds.length, ms: oneByOneMs, eventsPerSecond: (oneByOneIds.length - oneByOneErrors) / (oneByOneMs / 1000), errors: oneByOneErrors },
    };
  } finally {
    await admin.disconnect();
    await appender.disconnect();
    await writer.$disconnect();
    await db.$disconnect();
    await opts.dbs.drop(opts.name).catch(() => {});
  }
}

/** A deterministic version-4 uuid for user i (zod's uuid() checks the version and variant digits). */
const userIdSql = (i: string) =>
  `(substr(md5('rd' || ${i}), 1, 12) || '4' || substr(md5('rd' || ${i}), 14, 3) || '8' || substr(md5('rd' || ${i}), 18, 15))::uuid`;

/**
 * Head rows as UserCreated (+ RoleAssignedToUser for the first `members`) leave them
 * (evolveUser's shape), with deterministic ids; then VACUUM ANALYZE, as after a load.
 */
async function seedUserHeads(url: string, users: number, members: number, roleId: string) {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO streams (id, type, version, state, updated_at)
       SELECT ${userIdSql("i")}, 'user', CASE WHEN i <= $2 THEN 2 ELSE 1 END,
         jsonb_build_object('id', ${userIdSql("i")}, 'email', 'member' || i || '@bench.example.com', 'name', 'Member ' || i,
           'isDeleted', false, 'version', CASE WHEN i <= $2 THEN 2 ELSE 1 END,
           'createdAt', '2026-01-01T00:00:00.000Z', 'updatedAt', '2026-01-01T00:00:00.000Z',
           'deletedAt', null, 'lastLoginAt', null, 'erasedAt', null,
           'roles', CASE WHEN i <= $2 THEN jsonb_build_object($3::text, 'Doomed') ELSE '{}'::jsonb END),
         now()
       FROM generate_series(1, $1::int) i`,
      [users, members, roleId],
    );
    await c.query("VACUUM ANALYZE streams");
  } finally {
    await c.end();
  }
}

/** Live users outside the deleted role's members (they may have lost it already, either way). */
async function pickUsers(url: string, n: number, skip: number): Promise<string[]> {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const rows = await c.query<{ id: string }>(
      `SELECT ${userIdSql("i")}::text AS id FROM generate_series($1::int + 1, $1::int + $2::int) i`,
      [skip, n],
    );
    return rows.rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

/** The figures as a Markdown table (one run per size: seeding a million heads takes a while). */
export function roleDeletionReport(r: RoleDeletionRun): string {
  const n = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows = [
    [
      `role deletion, ${n(r.members)} members of ${n(r.users)} users (deleteRole until RoleDeleted is acknowledged)`,
      r.deleteMs === null ? `failed ${r.error}` : `${n(r.deleteMs / 1000, 1)} s`,
      "< 60 s at 100k of 1M",
    ],
    ["  events/s (RoleUnassignedFromUser appended)", `${n(r.eventsPerSecond)} (${n(r.unassigned)} events)`, ""],
    ["  process peak RSS / heap during it", `${n(r.peakRssMiB)} / ${n(r.peakHeapMiB)} MiB (before: ${n(r.rssBeforeMiB)} / ${n(r.heapBeforeMiB)} MiB)`, ""],
    [
      `  createUser at ${r.concurrent.rate}/s meanwhile: p50 / p99 / max`,
      `${n(r.concurrent.p50, 1)} / ${n(r.concurrent.p99, 1)} / ${n(r.concurrent.max, 1)} ms (${n(r.concurrent.count)} commands, ${r.concurrent.errors} errors)`,
      "",
    ],
    [`  (baseline) createUser at ${r.concurrent.rate}/s just before, no deletion: p50 / p99`, `${n(r.quiet.p50, 1)} / ${n(r.quiet.p99, 1)} ms`, ""],
    [`bulk assignment to ${n(r.bulk.users)} users (the bulk action's path: changeRoleOfUsers per ${BULK_CHUNK})`, `${n(r.bulk.ms / 1000, 1)} s, ${n(r.bulk.eventsPerSecond)} events/s (${r.bulk.errors} errors)`, ""],
    [`  (baseline) assignRole one after another, ${n(r.oneByOne.users)} of those users`, `${n(r.oneByOne.ms / 1000, 1)} s, ${n(r.oneByOne.eventsPerSecond)} events/s (${r.oneByOne.errors} errors); ${n(r.bulk.eventsPerSecond / r.oneByOne.eventsPerSecond, 1)}× faster in bulk`, ""],
    ["(setup) seeding the head rows with SQL", `${n(r.seedMs / 1000, 1)} s`, ""],
  ];
  return ["| figure | result | target |", "| --- | --- | --- |", ...rows.map((c) => `| ${c.join(" | ")} |`)].join("\n");
}
