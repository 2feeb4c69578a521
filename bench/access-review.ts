/**
 * The access-review figures (issue 13): a role with 100,000 members over a year
 * among a million users, first page p95 < 200 ms.
 *
 * The read model is filled with SQL (generate_series), not through the
 * projector: a year of history cannot come out of the backlog (its events are a
 * millisecond apart), and what is measured here is the queries. The projection
 * that writes these rows is proven exact by test/integration/access-review.int.test.ts.
 *
 * Dataset: `users` users; the reviewed role gets `members` of them at random
 * instants of 2025, 30% of those leave later in the year and half of those come
 * back (a second interval); every other user holds one of 19 other roles, so the
 * table holds about users + 1.15 × members intervals. Baseline, same run: a bare
 * count of the role's intervals on its index (what PostgreSQL itself takes to
 * walk them).
 */
import pg from "pg";
import { createDb } from "@/lib/db";
import { listMembersInPeriod, memberCountSeries, rolesHeldAt, type AccessReviewQuery } from "@/modules/users/read/role-membership";
import { measureVariants, timeCalls, type Databases, type QueryRun } from "./measure";
import { hr } from "./stats";

export interface AccessReviewRun {
  users: number;
  members: number;
  intervals: number;
  seedMs: number;
  firstPage: QueryRun;
  other: QueryRun;
  baseline: QueryRun;
}

const ROLE = "00000000-0000-4000-8000-00000000a001";
const otherRole = (k: number) => `00000000-0000-4000-8000-00000000b${String(k).padStart(3, "0")}`;
const YEAR = { from: new Date("2025-01-01T00:00:00Z"), to: new Date("2026-01-01T00:00:00Z") };

/** Fills a fresh database with the dataset (idempotent per database) and returns how many intervals it holds. */
export async function seedAccessReview(url: string, users: number, members: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Deterministic ids and times: md5 of the index, so reruns see the same data.
    await c.query(
      `INSERT INTO users (id, email, name, is_deleted, version, created_at, updated_at, email_lower, name_lower)
       SELECT md5('u' || i)::uuid, 'member' || i || '@example.com', 'Member ' || i, false, 2,
         '2024-12-01'::timestamptz, '2024-12-01'::timestamptz, 'member' || i || '@example.com', 'member ' || i
       FROM generate_series(1, $1::int) i`,
      [users],
    );
    const at = (salt: string) => `'2025-01-01'::timestamptz + (('x' || substr(md5('${salt}' || i), 1, 8))::bit(32)::bigint % 31536000) * interval '1 second'`;
    await c.query(
      `INSERT INTO role_membership_intervals (grant_event_id, user_id, role_id, role_name, from_at, until_at, grant_sequence,
         granted_by_service, revoke_event_id, revoke_sequence, removed_by_service, end_reason)
       SELECT md5('g' || i)::uuid, md5('u' || i)::uuid, $2::uuid, 'Reviewed', f, u, 2, 'bench',
         CASE WHEN u IS NULL THEN NULL ELSE md5('r' || i)::uuid END, CASE WHEN u IS NULL THEN NULL ELSE 3 END,
         CASE WHEN u IS NULL THEN NULL ELSE 'bench' END, CASE WHEN u IS NULL THEN NULL ELSE 'unassigned' END
       FROM (SELECT i, ${at("f")} AS f, CASE WHEN i % 10 < 3 THEN ${at("f")} + (${at("u")} - '2025-01-01'::timestamptz) / 2 END AS u
             FROM generate_series(1, $1::int) i) s`,
      [members, ROLE],
    );
    // Half of those who left came back later.
    await c.query(
      `INSERT INTO role_membership_intervals (grant_event_id, user_id, role_id, role_name, from_at, grant_sequence, granted_by_service)
       SELECT md5('g2' || r.user_id)::uuid, r.user_id, r.role_id, 'Reviewed', r.until_at + interval '1 day', 4, 'bench'
       FROM role_membership_intervals r
       WHERE r.role_id = $1::uuid AND r.until_at IS NOT NULL AND get_byte(decode(md5(r.user_id::text), 'hex'), 0) % 2 = 0`,
      [ROLE],
    );
    await c.query(
      `INSERT INTO role_membership_intervals (grant_event_id, user_id, role_id, role_name, from_at, grant_sequence, granted_by_service)
       SELECT md5('o' || i)::uuid, md5('u' || i)::uuid,
         ('00000000-0000-4000-8000-00000000b' || lpad((i % 19)::text, 3, '0'))::uuid, 'Other', ${at("o")}, 2, 'bench'
       FROM generate_series($1::int + 1, $2::int) i`,
      [members, users],
    );
    await c.query("VACUUM ANALYZE role_membership_intervals");
    await c.query("VACUUM ANALYZE users");
    const n = await c.query<{ n: string }>("SELECT count(*) AS n FROM role_membership_intervals");
    return Number(n.rows[0]!.n);
  } finally {
    await c.end();
  }
}

export async function measureAccessReview(options: {
  dbs: Databases;
  name: string;
  users: number;
  members: number;
  runs: number;
  log: (line: string) => void;
}): Promise<AccessReviewRun[]> {
  const { dbs, users, members, log } = options;
  if (members > users) throw new Error(`--access-review-members (${members}) must not exceed --access-review-users (${users})`);
  const url = await dbs.fresh(options.name);
  const t = hr();
  const intervals = await seedAccessReview(url, users, members);
  const seedMs = hr() - t;
  log(`access review: ${users.toLocaleString()} users, ${intervals.toLocaleString()} intervals (role under review: ${members.toLocaleString()} members over 2025), seeded in ${(seedMs / 1000).toFixed(1)} s`);
  const db = createDb(url);
  const baseClient = new pg.Client({ connectionString: url });
  await baseClient.connect();
  baseClient.on("error", () => {}); // the database is dropped with FORCE on an interrupted run
  const q = (from: string, to: string): AccessReviewQuery => ({ roleId: ROLE, from: new Date(from), to: new Date(to) });
  const year = { roleId: ROLE, ...YEAR };
  const firstPage = [
    { name: "first page, the whole year (total up to 1,000)", main: true, call: () => listMembersInPeriod(db, year) },
    { name: "first page, one month mid-year (total up to 1,000)", main: true, call: () => listMembersInPeriod(db, q("2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z")) },
    { name: "first page, the last day (total up to 1,000)", main: true, call: () => listMembersInPeriod(db, q("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z")) },
  ];
  const someone = "e4774cdd-a079-3f86-414e-8b9140bb6db4"; // md5("u1"), a member
  const other = [
    { name: "member count over the year (48 points)", main: false, call: () => memberCountSeries(db, year) },
    { name: "roles a user held at an instant", main: false, call: () => rolesHeldAt(db, someone, new Date("2025-07-01T00:00:00Z")) },
    { name: "a small role (other roles hold ~1/19 of the rest), first page", main: false, call: () => listMembersInPeriod(db, { ...year, roleId: otherRole(3) }) },
  ];
  const baseline = [
    {
      name: "baseline: count(*) of the role's intervals (index only)",
      main: true,
      call: () => baseClient.query("SELECT count(*) FROM role_membership_intervals WHERE role_id = $1", [ROLE]),
    },
  ];
  const out: AccessReviewRun[] = [];
  try {
    await timeCalls(3, () => listMembersInPeriod(db, year)); // warm the caches once for all runs
    for (let i = 0; i < options.runs; i++) {
      const run: AccessReviewRun = {
        users,
        members,
        intervals,
        seedMs,
        firstPage: await measureVariants(firstPage),
        other: await measureVariants(other),
        baseline: await measureVariants(baseline),
      };
      out.push(run);
      log(`access review run ${i + 1}: first page p50 ${run.firstPage.p50.toFixed(1)} ms p95 ${run.firstPage.p95.toFixed(1)} ms; baseline count p95 ${run.baseline.p95.toFixed(1)} ms`);
      for (const [name, v] of Object.entries({ ...run.firstPage.perVariant, ...run.other.perVariant })) {
        log(`    ${name}: p50 ${v.p50.toFixed(1)} ms p95 ${v.p95.toFixed(1)} ms`);
      }
    }
  } finally {
    await db.$disconnect();
    await baseClient.end();
    await dbs.drop(options.name);
  }
  return out;
}
