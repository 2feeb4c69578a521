/**
 * The PostgreSQL side of a zero-downtime rebuild: a shadow copy of the
 * read-model tables in a schema of its own, filled by replaying the log, then
 * swapped with the live tables in one transaction.
 *
 * The copy is made from the live tables' own catalog (columns, collations,
 * defaults, constraints and index definitions, with the same names), never
 * from a second hand-written DDL, so it cannot drift from the Prisma
 * migrations: after the swap `public` holds tables identical in shape to the
 * ones the migrations made. Secondary indexes and foreign keys are built after
 * the bulk load (one sort each instead of one index update per row), primary
 * keys before it (the projector's upserts need them).
 *
 * The swap moves tables with `ALTER TABLE … SET SCHEMA`: PostgreSQL DDL is
 * transactional, so every reader sees either all old or all new tables, and
 * queries keep their unqualified names (Prisma's `"public"."users"` resolves to
 * the new table from the next statement on).
 */
import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import { quoted } from "@/lib/sql-tx";

/** The schema the console and the projector use (Prisma's default). */
export const LIVE_SCHEMA = "public";
/** Where a rebuild writes until the switch. */
export const REBUILD_SCHEMA = "read_model_rebuild";
/** Where the replaced tables wait for their DROP, right after the switch. */
export const RETIRED_SCHEMA = "read_model_retired";

/*
 * `tables`, below, are the tables the projector owns and a replay recreates,
 * parents before children (foreign keys): the modules' (Composition.readModelTables).
 * Everything else in `public` (command side, access, dead letters, notifiers,
 * rebuild history) is not derived from the log and stays.
 */

const ident = (name: string) => Prisma.raw(quoted(name));
const qualified = (schema: string, table: string) => Prisma.raw(`"${schema}"."${table}"`);

interface CatalogDdl {
  table: string;
  /** PRIMARY KEY / UNIQUE constraints and unique indexes: created before the load. */
  keys: string[];
  /** Other indexes: created after it. */
  indexes: string[];
  /** Foreign keys: created after every table's keys. */
  foreignKeys: string[];
}

/**
 * The DDL of the live tables, read from the catalog with an empty search path
 * so every table name comes out schema-qualified, then pointed at `schema`.
 */
async function catalogDdl(tx: Tx, schema: string, tables: readonly string[]): Promise<CatalogDdl[]> {
  await tx.$executeRaw`SELECT set_config('search_path', '', true)`;
  // Every read-model table named in a definition (the indexed table, a foreign key's target) moves to `schema`.
  const names = new RegExp(`\\b${LIVE_SCHEMA}\\.(${tables.join("|")})\\b`, "g");
  const retarget = (sql: string) => {
    const out = sql.replace(names, (_, table: string) => `"${schema}".${table}`);
    if (out === sql) throw new Error(`unexpected catalog DDL (names no read-model table): ${sql}`);
    return out;
  };
  const result: CatalogDdl[] = [];
  for (const table of tables) {
    const relation = `${LIVE_SCHEMA}.${table}`;
    const constraints = await tx.$queryRaw<{ name: string; type: string; def: string }[]>`
      SELECT conname AS name, contype::text AS type, pg_get_constraintdef(oid) AS def
      FROM pg_catalog.pg_constraint WHERE conrelid = ${relation}::regclass AND contype IN ('p', 'u', 'f') ORDER BY conname`;
    const indexes = await tx.$queryRaw<{ def: string; is_unique: boolean }[]>`
      SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS is_unique
      FROM pg_catalog.pg_index i
      WHERE i.indrelid = ${relation}::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
      ORDER BY i.indexrelid`;
    const alter = (c: { name: string; def: string }) =>
      retarget(`ALTER TABLE ${LIVE_SCHEMA}.${table} ADD CONSTRAINT "${c.name.replaceAll('"', '""')}" ${c.def}`);
    result.push({
      table,
      keys: [
        ...constraints.filter((c) => c.type !== "f").map(alter),
        ...indexes.filter((i) => i.is_unique).map((i) => retarget(i.def)),
      ],
      indexes: indexes.filter((i) => !i.is_unique).map((i) => retarget(i.def)),
      foreignKeys: constraints.filter((c) => c.type === "f").map(alter),
    });
  }
  return result;
}

/**
 * Drops any earlier shadow and creates the empty tables in REBUILD_SCHEMA,
 * with their keys but without secondary indexes or foreign keys. For the bulk
 * path (./bulk-load.ts), which writes with COPY and needs no key to upsert
 * into, `keysLater` leaves the keys out too: finishShadowTables builds them.
 *
 * `autovacuumLater` turns autovacuum off on the shadow tables until the switch
 * (swapShadowTables turns it back on, to the live tables' setting). For the bulk
 * path: its tables are written once, by COPY, so a vacuum has no dead row to
 * reclaim; it would only share the two cores with the load, and an autovacuum
 * still running on a shadow table when the switch comes holds up the switch's
 * ALTERs, and the live projector with them, until PostgreSQL cancels it.
 */
export async function createShadowTables(
  db: Db,
  tables: readonly string[],
  { keysLater = false, autovacuumLater = false } = {},
): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`DROP SCHEMA IF EXISTS ${ident(REBUILD_SCHEMA)} CASCADE`;
    await tx.$executeRaw`CREATE SCHEMA ${ident(REBUILD_SCHEMA)}`;
    const ddl = await catalogDdl(tx, REBUILD_SCHEMA, tables);
    for (const { table, keys } of ddl) {
      // LIKE copies names, types, collations (users.email_lower is COLLATE "C"), NOT NULL, defaults and CHECKs.
      await tx.$executeRaw`CREATE TABLE ${qualified(REBUILD_SCHEMA, table)} (LIKE ${qualified(LIVE_SCHEMA, table)}
        INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)`;
      // LIKE leaves the storage parameters behind (users' fillfactor keeps the projector's updates HOT).
      const [live] = await tx.$queryRaw<{ reloptions: string[] | null }[]>`
        SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${LIVE_SCHEMA} AND c.relname = ${table}`;
      if (live?.reloptions?.length) {
        // From the catalog (name=value pairs PostgreSQL itself accepted), never from input.
        await tx.$executeRaw`ALTER TABLE ${qualified(REBUILD_SCHEMA, table)} SET (${Prisma.raw(live.reloptions.join(", "))})`;
      }
      if (autovacuumLater) {
        await tx.$executeRaw`ALTER TABLE ${qualified(REBUILD_SCHEMA, table)} SET (${Prisma.raw(AUTOVACUUM_OPTIONS.map((o) => `${o} = false`).join(", "))})`;
      }
      if (!keysLater) for (const sql of keys) await tx.$executeRawUnsafe(sql);
    }
  });
}

/** How many tables get their keys and indexes built at once (each build is one backend's sort). */
const BUILD_CONCURRENCY = 2;

export interface ShadowTableBuilder {
  /**
   * Builds `table`'s keys (when asked), secondary indexes and planner statistics, as soon as its
   * rows are all written: at most BUILD_CONCURRENCY tables at a time, so one table's sorts run
   * while another is still being written or sorted. Resolves when that table is done.
   */
  build(table: string): Promise<void>;
  /** After every table's build: the foreign keys (they need the referenced tables' keys). */
  finish(): Promise<void>;
}

/**
 * The builder of the shadow tables' keys, secondary indexes and foreign keys (their DDL read from
 * the live tables' catalog once, here). createShadowTables left the keys out when `withKeys`.
 */
export async function shadowTableBuilder(db: Db, tables: readonly string[], { withKeys = false } = {}): Promise<ShadowTableBuilder> {
  const ddl = new Map((await db.$transaction((tx) => catalogDdl(tx, REBUILD_SCHEMA, tables))).map((d) => [d.table, d]));
  const slots = semaphore(BUILD_CONCURRENCY);
  const builds = new Map<string, Promise<void>>();
  const inTable = (table: string, statements: readonly string[]) =>
    db.$transaction(
      async (tx) => {
        // Each index is one sort of the whole table: in memory rather than in temporary files.
        await tx.$executeRaw`SELECT set_config('maintenance_work_mem', '256MB', true)`;
        for (const sql of statements) await tx.$executeRawUnsafe(sql);
        // ANALYZE runs inside a transaction block (VACUUM would not): statistics for the planner.
        await tx.$executeRaw`ANALYZE ${qualified(REBUILD_SCHEMA, table)}`;
      },
      { maxWait: 60_000, timeout: 30 * 60_000 },
    );
  const build = (table: string): Promise<void> => {
    const of = ddl.get(table);
    if (!of) return Promise.reject(new Error(`${table} is not a read-model table of this rebuild`));
    let built = builds.get(table);
    if (!built) {
      built = slots(() => inTable(table, [...(withKeys ? of.keys : []), ...of.indexes]));
      built.catch(() => {}); // the caller of build or finish sees it
      builds.set(table, built);
    }
    return built;
  };
  return {
    build,
    async finish() {
      await Promise.all(tables.map(build));
      const foreignKeys = tables.flatMap((table) => ddl.get(table)!.foreignKeys);
      if (foreignKeys.length === 0) return;
      // One after another: adding a foreign key locks its referenced table against the next one's.
      await db.$transaction(
        async (tx) => {
          await tx.$executeRaw`SELECT set_config('maintenance_work_mem', '256MB', true)`;
          for (const sql of foreignKeys) await tx.$executeRawUnsafe(sql);
        },
        { maxWait: 60_000, timeout: 30 * 60_000 },
      );
    },
  };
}

/**
 * Builds the secondary indexes and foreign keys of the shadow tables (and their keys, when
 * createShadowTables left them out), then ANALYZEs them for the planner: two tables at a time,
 * the foreign keys last.
 */
export async function finishShadowTables(db: Db, tables: readonly string[], { withKeys = false } = {}): Promise<void> {
  const builder = await shadowTableBuilder(db, tables, { withKeys });
  await builder.finish();
}

/** Runs at most `n` of the functions given to it at once, the others in the order they came. */
function semaphore(n: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running < n) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // a finishing one hands its slot over
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * Inside the caller's transaction (which holds `group`'s projection fence): moves
 * the live tables out to RETIRED_SCHEMA and the shadow tables into LIVE_SCHEMA.
 * Readers wait for the commit for a moment (ACCESS EXCLUSIVE locks), then see
 * the new tables.
 */
export async function swapShadowTables(tx: Tx, group: string, tables: readonly string[]): Promise<void> {
  // Rows of other consumer groups (another read model sharing these tables) move across unchanged.
  await tx.$executeRaw`
    INSERT INTO ${qualified(REBUILD_SCHEMA, "projection_offsets")}
    SELECT * FROM ${qualified(LIVE_SCHEMA, "projection_offsets")} WHERE consumer_group <> ${group}`;
  // Autovacuum as on the live tables (createShadowTables' autovacuumLater turned it off): their own
  // setting where they have one (on the table or its TOAST table), else the server's.
  const autovacuum = await tx.$queryRaw<{ table: string; options: string[] }[]>`
    SELECT c.relname AS table,
      array(SELECT o FROM unnest(c.reloptions) o WHERE o LIKE 'autovacuum_enabled=%'
            UNION ALL SELECT 'toast.' || o FROM unnest(t.reloptions) o WHERE o LIKE 'autovacuum_enabled=%') AS options
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
    WHERE n.nspname = ${LIVE_SCHEMA} AND c.relname IN (${Prisma.join(tables)})`;
  const name = (schema: string, table: string) => `${quoted(schema)}.${quoted(table)}`;
  const statements = [
    `DROP SCHEMA IF EXISTS ${quoted(RETIRED_SCHEMA)} CASCADE`,
    `CREATE SCHEMA ${quoted(RETIRED_SCHEMA)}`,
    // Children first, so each table is locked in the order the projector's batches lock them (parents first) at most once.
    ...[...tables].reverse().map((table) => `ALTER TABLE ${name(LIVE_SCHEMA, table)} SET SCHEMA ${quoted(RETIRED_SCHEMA)}`),
    ...tables.flatMap((table) => {
      const options = autovacuum.find((a) => a.table === table)?.options ?? [];
      return [
        `ALTER TABLE ${name(REBUILD_SCHEMA, table)} RESET (${AUTOVACUUM_OPTIONS.join(", ")})`,
        // From the catalog (name=value pairs PostgreSQL itself accepted), never from input.
        ...(options.length ? [`ALTER TABLE ${name(REBUILD_SCHEMA, table)} SET (${options.join(", ")})`] : []),
        `ALTER TABLE ${name(REBUILD_SCHEMA, table)} SET SCHEMA ${quoted(LIVE_SCHEMA)}`,
      ];
    }),
    `DROP SCHEMA ${quoted(REBUILD_SCHEMA)}`,
  ];
  // One round trip for every ALTER: the live projector is held for the whole swap, and through an
  // interactive transaction each statement would cost a round trip or more of that hold.
  //
  // The ALTERs wait for any lock on these tables, and an autovacuum of one of them (of a live table,
  // written all the time; of a shadow one where it was left on) is cancelled by PostgreSQL only after
  // the waiter's deadlock_timeout: 1 s by default, all of it with the live projector held. Where
  // this role may set it (a superuser), it is 1 ms for this transaction; elsewhere the server's own
  // value applies.
  await tx.$executeRawUnsafe(`DO $swap$
BEGIN
  BEGIN
    PERFORM set_config('deadlock_timeout', '${AUTOVACUUM_CANCEL_AFTER}', true);
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
${statements.map((sql) => `  ${sql};`).join("\n")}
END $swap$`);
}

/**
 * How long the switch waits for an autovacuum holding one of its tables before PostgreSQL cancels
 * it (an autovacuum of a live table: the shadow ones have it off). Also how long before a wait
 * behind anything else runs one deadlock check, which costs next to nothing next to the hold.
 */
const AUTOVACUUM_CANCEL_AFTER = "1ms";

/** The storage parameters that turn autovacuum off on a table and on its TOAST table. */
const AUTOVACUUM_OPTIONS = ["autovacuum_enabled", "toast.autovacuum_enabled"] as const;

/** Drops the shadow (after a refusal, failure or cancel) and the retired tables (after a switch). */
export async function dropRebuildSchemas(db: Db): Promise<void> {
  await db.$executeRaw`DROP SCHEMA IF EXISTS ${ident(REBUILD_SCHEMA)} CASCADE`;
  await db.$executeRaw`DROP SCHEMA IF EXISTS ${ident(RETIRED_SCHEMA)} CASCADE`;
}

export interface TableChecksum {
  table: string;
  rows: number;
  /** Sum of a 64-bit hash of each row: order-independent, so no sort. */
  sum: string;
}

/**
 * Row count and checksum of each read-model table in `schema`: the sum of a 64-bit hash of each
 * row (`hash_record_extended`, PostgreSQL 14 or later), so no sort. projection_offsets counts
 * only `group`'s rows and leaves out updated_at (when, not what).
 *
 * Columns of a type whose values are equal exactly when their texts are (uuid, text, integers,
 * booleans, timestamps) are hashed as values; every other column (jsonb, arrays, numbers with a
 * scale) by its text, as the whole row's text was before: `{"n": 1.0}` and `{"n": 1}` still
 * differ. Skipping the text output of the other columns makes a checksum about twice as fast
 * (500k timeline rows on PostgreSQL 15: 0.45 s against 0.90 s for the row's text).
 */
export async function tableChecksums(
  db: Db | Tx,
  schema: string,
  group: string,
  tables: readonly string[],
): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const table of tables) {
    const isOffsets = table === "projection_offsets";
    const row = await rowToHash(db, schema, table, isOffsets ? OFFSETS_COMPARED : null);
    const where = isOffsets ? Prisma.sql`WHERE t.consumer_group = ${group}` : Prisma.empty;
    const [result] = await db.$queryRaw<{ rows: bigint; sum: string }[]>`
      SELECT count(*)::bigint AS rows, COALESCE(sum(hash_record_extended(${row}, 0)), 0)::text AS sum
      FROM ${qualified(schema, table)} t ${where}`;
    out.push({ table, rows: Number(result!.rows), sum: result!.sum });
  }
  return out;
}

/** The columns of projection_offsets that say what was projected (not updated_at: when). */
const OFFSETS_COMPARED = ["consumer_group", "topic", "partition", "next_offset", "last_event_at"];

/** Types whose values are equal exactly when their texts are (format_type's names). */
const HASHED_AS_VALUES = new Set([
  "uuid",
  "text",
  "character varying",
  "smallint",
  "integer",
  "bigint",
  "boolean",
  "date",
  "timestamp without time zone",
  "timestamp with time zone",
]);

/** `ROW(t.a, t.b::text, …)` over `table`'s columns (or `only` those), in the table's column order. */
async function rowToHash(db: Db | Tx, schema: string, table: string, only: readonly string[] | null): Promise<Prisma.Sql> {
  const columns = await db.$queryRaw<{ name: string; type: string }[]>`
    SELECT a.attname AS name, format_type(a.atttypid, NULL) AS type
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = ${`"${schema}"."${table}"`}::regclass AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`;
  const compared = only ? columns.filter((c) => only.includes(c.name)) : columns;
  if (compared.length === 0) throw new Error(`${schema}.${table} has no columns to compare`);
  const parts = compared.map((c) => `t."${c.name.replaceAll('"', '""')}"${HASHED_AS_VALUES.has(c.type) ? "" : "::text"}`);
  return Prisma.raw(`ROW(${parts.join(", ")})`);
}
