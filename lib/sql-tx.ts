/**
 * Raw SQL in a transaction, on node-postgres directly: what the projector's
 * batches, and every projection they call, need and no more (`SqlTx`, and
 * `BatchTx` with COPY for what a batch appends).
 *
 * Prisma's interactive transaction serializes each query's parameters to JSON
 * and parses them back before node-postgres sends them. A batch's rows go as one
 * JSON parameter of hundreds of kilobytes, so that round trip cost 18% of the
 * projector's CPU, with the query engine's own bookkeeping on top (issue 15's
 * profile in bench/PERFORMANCE.md). Here a tagged template becomes the same
 * `$1…$n` statement Prisma would send, and its values go to node-postgres as they are.
 *
 * Results read back as Prisma's `$queryRaw` gives them, so code written against a
 * Prisma transaction works unchanged: `bigint` for int8, `Date` for timestamps
 * (UTC for those without a time zone), parsed json/jsonb, arrays.
 */
import { finished } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { Prisma } from "@/generated/prisma/client";
import { copyLine, type CopyValue } from "@/lib/copy-text";
import { databaseUrlOf, type Db } from "@/lib/db";

type Query = TemplateStringsArray | Prisma.Sql;

/** Raw SQL in one transaction. Prisma's transaction client is one too, so a projection runs in either. */
export interface SqlTx {
  $queryRaw<T = unknown>(query: Query, ...values: unknown[]): Promise<T>;
  $executeRaw(query: Query, ...values: unknown[]): Promise<number>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** A projector batch's transaction: raw SQL, and COPY for its appends (the timeline rows). */
export interface BatchTx extends SqlTx {
  /**
   * Appends `rows` to `table` (resolved through the search_path: a rebuild's batch writes the
   * shadow table) with one `COPY … FROM STDIN`: no JSON document to parse, no conflict check.
   * Any duplicate key fails the whole transaction.
   */
  copyRows(table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<void>;
}

/** How long a batch's transaction may sit idle between two statements before PostgreSQL ends it. */
const IDLE_IN_TRANSACTION_MS = 60_000;

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;
const INT8 = 20;
const INT8_ARRAY = 1016;

/** The parsers that make node-postgres read results as Prisma's raw queries do. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8) return (v: string) => BigInt(v);
    if (oid === INT8_ARRAY) {
      const strings = pg.types.getTypeParser(INT8_ARRAY as Parameters<typeof pg.types.getTypeParser>[0]) as (v: string) => (string | null)[];
      return (v: string) => strings(v).map((x) => (x === null ? null : BigInt(x)));
    }
    if (oid === TIMESTAMP_WITHOUT_TIME_ZONE) return (v: string) => new Date(`${v.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * A pool for `inSqlTransaction` on the database of `db` (a client made by createDb); `max`
 * connections, waiting at most `connectionTimeoutMs` for one. The caller ends it.
 */
export function sqlPoolOf(db: Db, options: { max: number; connectionTimeoutMs: number }): pg.Pool {
  const url = databaseUrlOf(db);
  if (!url) throw new Error("a batch transaction needs a client made by createDb (lib/db.ts): it connects to the same database URL");
  return createSqlPool(url, options);
}

/** A pool for `inSqlTransaction`; `max` connections, waiting at most `connectionTimeoutMs` for one. */
function createSqlPool(url: string, options: { max: number; connectionTimeoutMs: number }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    // Prisma bounded its interactive transactions (60 s); here PostgreSQL does: a transaction left
    // idle between statements that long (a stuck process) is ended, and its locks with it.
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    types,
  });
  // An idle connection that dies (PostgreSQL restarted) is dropped from the pool; the next batch opens another.
  pool.on("error", () => {});
  return pool;
}

/** Told of each statement run through `inSqlTransaction`, with its time in milliseconds. */
export type StatementListener = (text: string, ms: number) => void;

/** An SQL identifier, double-quoted (for names a module declares, never for input). */
export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * `COPY [schema.]table (columns) FROM STDIN`, every name quoted (names a module declares, never
 * input). `freeze`: WITH (FREEZE), for a table created or truncated in the same transaction.
 */
export function copyFromStdin(table: string, columns: readonly string[], schema?: string, { freeze = false } = {}): string {
  return `COPY ${schema ? `${quoted(schema)}.` : ""}${quoted(table)} (${columns.map(quoted).join(", ")}) FROM STDIN${freeze ? " WITH (FREEZE)" : ""}`;
}

function batchTx(client: pg.PoolClient, onStatement?: StatementListener): BatchTx {
  const run = async (text: string, values: unknown[]) => {
    if (!onStatement) return client.query(text, values);
    const started = performance.now();
    const result = await client.query(text, values);
    onStatement(text, performance.now() - started);
    return result;
  };
  const statement = (query: Query, values: unknown[]) =>
    query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
  return {
    async $queryRaw<T>(query: Query, ...values: unknown[]) {
      const sql = statement(query, values);
      return (await run(sql.text, sql.values)).rows as T;
    },
    async $executeRaw(query: Query, ...values: unknown[]) {
      const sql = statement(query, values);
      return (await run(sql.text, sql.values)).rowCount ?? 0;
    },
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await run(query, values)).rowCount ?? 0;
    },
    async copyRows(table, columns, rows) {
      let text = "";
      for (const row of rows) text += copyLine(row);
      if (!text) return;
      const sql = copyFromStdin(table, columns);
      const started = performance.now();
      const stream = client.query(copyFrom(sql));
      stream.end(text);
      await finished(stream);
      onStatement?.(sql, performance.now() - started);
    },
  };
}

/**
 * Runs `fn` in a transaction on a connection of `pool`: committed when it resolves, rolled back
 * when it throws. A connection whose rollback fails too is closed, not handed to the next batch.
 */
export async function inSqlTransaction<T>(
  pool: pg.Pool,
  fn: (tx: BatchTx) => Promise<T>,
  onStatement?: StatementListener,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(batchTx(client, onStatement));
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((e: Error) => {
      broken = e;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
