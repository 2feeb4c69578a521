/**
 * Every index must earn its place (issue 15): `npm run bench -- --index-cost`.
 *
 * For each secondary index of the two tables the projector writes most (`users`, `user_events`):
 * the query that needs it (INDEX_QUERIES, kept by hand beside the read code it names), and what it
 * costs the writes, measured as the raw `COPY` of the projector's rows into the live schema
 * (runRawCopyLive: the floor the projector is compared with) in a fresh database with that one
 * index dropped, against the same COPY with every index in place, in the same run, alternating,
 * `runs` times each. An index whose name is not in INDEX_QUERIES is reported as "no query named",
 * which is a finding, not an error. The primary keys, unique constraints and the foreign key stay:
 * they are correctness, not speed.
 *
 * A COPY is not the projector (no Kafka, no decoding, one connection), but it writes the same rows
 * into the same indexes; the share of its time an index takes is what that index adds to every
 * projected event's write.
 */
import pg from "pg";
import type { BacklogSpec } from "./dataset";
import { runRawCopyLive, type Databases, type Log } from "./measure";
import { summarize, type Summary } from "./stats";

/** Each secondary index of `users` and `user_events`, and the read that needs it. */
export const INDEX_QUERIES: Record<string, string> = {
  users_created_at_id_idx: "users page with the status filter \"All\", newest first, and its keyset pages: modules/users/read/list-users.ts",
  users_is_deleted_created_at_id_idx: "users page as it opens (live users) and \"Deleted\", newest first: list-users.ts",
  users_email_lower_idx: "users page search, case-insensitive email prefix (`email_lower LIKE 'x%'`): list-users.ts",
  users_name_lower_id_idx: "users page search by name prefix, and the sort by name with its keyset pages: list-users.ts",
  user_events_user_id_sequence_idx: "a user's timeline, newest first, page by page: modules/users/read/user-timeline.ts",
  user_events_user_id_type_sequence_idx: "a user's timeline filtered by event type: user-timeline.ts",
  user_events_occurred_at_idx: "the activity feed, newest first: modules/activity/read/list-activity.ts",
  user_events_type_occurred_at_idx: "the activity feed filtered by event type: list-activity.ts",
  user_events_actor_user_id_occurred_at_idx: "an actor's name → what they did (the activity feed by actor): list-activity.ts",
};

export interface IndexCost {
  table: string;
  index: string;
  query: string;
  /** rows/s of the COPY without this index */
  without: Summary;
}

export interface IndexCostRun {
  /** rows/s of the COPY with every index */
  all: Summary;
  /** rows/s with none of the secondary indexes (only keys and the foreign key) */
  none: Summary;
  indexes: IndexCost[];
}

export async function measureIndexCost(opts: { dbs: Databases; spec: BacklogSpec; runs: number; runHex: string; log: Log }): Promise<IndexCostRun> {
  const { dbs, spec, runs, runHex, log } = opts;
  let seq = 0;
  /** One COPY into a fresh database after dropping `drop` (none: every index). */
  const copyWithout = async (drop: string[]): Promise<number> => {
    const name = `bench_idx_${runHex}_${seq++}`;
    const url = await dbs.fresh(name);
    try {
      if (drop.length) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          for (const index of drop) await c.query(`DROP INDEX "${index}"`);
        } finally {
          await c.end();
        }
      }
      return (await runRawCopyLive({ url, spec })).rate;
    } finally {
      await dbs.drop(name);
    }
  };

  const listUrl = await dbs.fresh(`bench_idx_${runHex}_list`);
  const c = new pg.Client({ connectionString: listUrl });
  await c.connect();
  const found = await c
    .query<{ table: string; index: string }>(
      `SELECT i.tablename AS table, i.indexname AS index FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename IN ('users', 'user_events')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)
       ORDER BY i.tablename, i.indexname`,
    )
    .finally(() => c.end());
  await dbs.drop(`bench_idx_${runHex}_list`);
  const names = found.rows.map((r) => r.index);
  log(`index cost: ${names.length} secondary indexes on users and user_events; ${runs} COPY runs each, alternating with every index in place`);

  const all: number[] = [];
  const none: number[] = [];
  const without = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < runs; r++) {
    all.push(await copyWithout([]));
    none.push(await copyWithout(names));
    for (const name of names) without.get(name)!.push(await copyWithout([name]));
    log(`  round ${r + 1}: every index ${Math.round(all.at(-1)!).toLocaleString()} rows/s, none ${Math.round(none.at(-1)!).toLocaleString()} rows/s`);
  }
  return {
    all: summarize(all),
    none: summarize(none),
    indexes: found.rows.map((row) => ({
      table: row.table,
      index: row.index,
      query: INDEX_QUERIES[row.index] ?? "**no query named**",
      without: summarize(without.get(row.index)!),
    })),
  };
}

/**
 * The table: each index, its query, the COPY without it, and its share of the write time. The
 * write time per row is 1/rate, so an index's share is 1 − rate(all) / rate(without it).
 */
export function indexCostReport(r: IndexCostRun): string {
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  const share = (without: number) => `${Math.round((1 - r.all.median / without) * 100)}%`;
  const rows = [
    ["(every index, as deployed)", "—", `${n(r.all.median)} (${n(r.all.min)}–${n(r.all.max)})`, "—"],
    ["(none of these, keys and foreign key only)", "—", `${n(r.none.median)} (${n(r.none.min)}–${n(r.none.max)})`, `${share(r.none.median)} all together`],
    ...r.indexes.map((i) => [`\`${i.table}.${i.index}\``, i.query, `${n(i.without.median)} (${n(i.without.min)}–${n(i.without.max)})`, share(i.without.median)]),
  ];
  return [
    "| index | the query that needs it | raw COPY rows/s without it, median (min–max) | its share of the write time |",
    "| --- | --- | --- | --- |",
    ...rows.map((c) => `| ${c.join(" | ")} |`),
  ].join("\n");
}
