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
import { createHash } from "node:crypto";
import pg from "pg";
import pgUtils from "pg/lib/utils.js";
import { from as copyFrom } from "pg-copy-streams";
import { Prisma } from "@/generated/prisma/client";
import { copyLine, copyText, type CopyValue } from "@/lib/copy-text";
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
   * Queues a statement whose result nobody waits for: it is sent with the transaction's next
   * statement (or its COMMIT), in the same round trip, before it. If it fails, that statement's
   * promise (or the commit) fails with its error, and the transaction with it.
   */
  defer(query: Query, ...values: unknown[]): void;
  /** Sends what `defer` queued now (one round trip), when anything is queued. */
  flush(): Promise<void>;
  /**
   * Appends `rows` to `table` (resolved through the search_path: a rebuild's batch writes the
   * shadow table) with one `COPY … FROM STDIN`: no JSON document to parse, no conflict check.
   * Any duplicate key fails the whole transaction. A few rows go as one INSERT, deferred (`defer`):
   * then a duplicate key fails the next statement, or the commit.
   */
  copyRows(table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<void>;
}

/**
 * copyRows sends at most this many rows as one INSERT instead of a COPY: for the projector's small
 * batches (one or two events a partition at a few hundred commands a second) the round trips, not
 * the rows, are the cost. Either way a duplicate key fails the transaction.
 */
const INSERT_AT_MOST = 32;

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

/**
 * Named prepared statements a connection keeps at most (`prepared`): a transaction's statements are
 * the same few texts run again and again, but a text built from its input (an INSERT of n rows)
 * must not make a connection hold one statement per n forever. Past it, statements run unnamed.
 */
const PREPARED_PER_CONNECTION = 200;
const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();
const names = new Map<string, string>();

/** The name `text` is prepared under on `client`, or undefined once the client holds its share. */
function preparedName(client: pg.PoolClient, text: string): string | undefined {
  let name = names.get(text);
  if (!name) {
    name = `tx_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    if (names.size >= 4 * PREPARED_PER_CONNECTION) names.clear();
    names.set(text, name);
  }
  let held = preparedOn.get(client);
  if (!held) preparedOn.set(client, (held = new Set()));
  if (held.has(name)) return name;
  if (held.size >= PREPARED_PER_CONNECTION) return undefined;
  held.add(name);
  return name;
}

/** One statement of a pipeline: its text, its values, and the name it is prepared under, if any. */
interface Step {
  text: string;
  values: unknown[];
  name?: string;
}

/** What node-postgres' Result does for a pipeline (it is exported, though its types do not say so). */
interface PgResult extends pg.QueryResult {
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): unknown;
  addRow(row: unknown): void;
  addCommandComplete(message: unknown): void;
}
const PgResult = (pg as unknown as { Result: new (rowMode: undefined, types: pg.CustomTypesConfig) => PgResult }).Result;

/** The parts of node-postgres' connection a pipeline writes to (pg.Client#connection). */
interface PgConnection {
  parsedStatements: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  parse(config: { text: string; name: string }): void;
  bind(config: { statement: string; values: (string | Buffer | null | undefined)[] }): void;
  describe(config: { type: "P"; name: string }): void;
  execute(config: object): void;
  sync(): void;
  sendCopyFail(message: string): void;
  on(event: "parseComplete", listener: () => void): void;
  off(event: "parseComplete", listener: () => void): void;
}

/**
 * Several statements in one round trip: node-postgres sends one statement and waits for
 * PostgreSQL's answer before the next, so a transaction's BEGIN, its statements and its COMMIT
 * each cost a round trip (on this project's 2-core VM, a p99 of 3-5 ms each under load:
 * bench/PERFORMANCE.md, twelfth session). A pipeline is a query object node-postgres runs like its
 * own (a "submittable"): it writes every statement's Parse (unless prepared on the connection
 * already), Bind, Describe and Execute, then one Sync, and reads their results in order. PostgreSQL
 * stops at the first error and skips the rest up to the Sync, so a failure leaves the statements
 * after it unrun and the transaction aborted, as if they had been sent one by one.
 */
class Pipeline {
  readonly done: Promise<PgResult[]>;
  private resolve!: (results: PgResult[]) => void;
  private reject!: (error: Error) => void;
  private readonly results: PgResult[] = [];
  private current: PgResult;
  private rowError: Error | undefined;
  private connection: PgConnection | undefined;
  /** The names whose Parse this pipeline sent, in order, and how many PostgreSQL confirmed. */
  private readonly parsing: string[] = [];
  private parsed = 0;
  private readonly onParse = () => {
    this.parsed++;
  };

  constructor(
    private readonly steps: Step[],
    private readonly types: pg.CustomTypesConfig,
  ) {
    this.current = new PgResult(undefined, types);
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /**
   * Called by node-postgres when the connection is free: writes the whole pipeline at once. An
   * error returned here is handed back to handleError, and the connection goes on to the next query.
   */
  submit(connection: PgConnection): Error | null {
    let values: (string | Buffer | null | undefined)[][];
    try {
      // Mapped first, so a value that cannot be sent fails the pipeline before anything is written.
      values = this.steps.map((step) => step.values.map((v) => pgUtils.prepareValue(v)));
    } catch (error) {
      return error as Error;
    }
    this.connection = connection;
    connection.on("parseComplete", this.onParse);
    connection.stream.cork?.();
    try {
      this.steps.forEach((step, i) => {
        const name = step.name ?? "";
        if (!name || (connection.parsedStatements[name] !== step.text && !this.parsing.includes(name))) {
          connection.parse({ text: step.text, name });
          this.parsing.push(name);
        }
        connection.bind({ statement: name, values: values[i]! });
        connection.describe({ type: "P", name: "" });
        connection.execute({});
      });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(message: { fields: unknown[] }) {
    this.current.addFields(message.fields);
  }

  handleDataRow(message: { fields: unknown[] }) {
    if (this.rowError) return;
    try {
      this.current.addRow(this.current.parseRow(message.fields));
    } catch (error) {
      this.rowError = error as Error;
    }
  }

  handleCommandComplete(message: unknown) {
    this.current.addCommandComplete(message);
    this.results.push(this.current);
    this.current = new PgResult(undefined, this.types);
  }

  handleEmptyQuery() {
    this.handleCommandComplete({ command: "" });
  }

  handlePortalSuspended() {}

  handleCopyInResponse(connection: PgConnection) {
    connection.sendCopyFail("a pipeline's statement may not be a COPY");
  }

  handleCopyData() {}

  handleError(error: Error) {
    this.settle();
    this.reject(error);
  }

  handleReadyForQuery() {
    this.settle();
    if (this.rowError) this.reject(this.rowError);
    else this.resolve(this.results);
  }

  /** Records the statements PostgreSQL prepared (those before an error, or all), so they are not parsed again. */
  private settle() {
    const connection = this.connection;
    if (!connection) return;
    this.connection = undefined;
    connection.off("parseComplete", this.onParse);
    for (const name of this.parsing.slice(0, this.parsed)) {
      const text = name && this.steps.find((s) => s.name === name)?.text;
      if (text) connection.parsedStatements[name] = text;
    }
  }
}

/** Runs `steps` on `client` in one round trip; their results, in order. */
function pipeline(client: pg.PoolClient, steps: Step[]): Promise<PgResult[]> {
  const submittable = new Pipeline(steps, types);
  client.query(submittable as unknown as pg.QueryConfig);
  return submittable.done;
}

/** The transactions made by inSqlTransaction: the ones that can defer a statement. */
const pipelined = new WeakSet<SqlTx>();

/**
 * Runs `query` in `tx` with its next statement or its commit (BatchTx.defer) where `tx` is
 * inSqlTransaction's; in any other transaction (Prisma's), now. Either way it runs before
 * `flushDeferred(tx)` returns.
 */
export async function deferStatement(tx: SqlTx, query: Prisma.Sql): Promise<void> {
  if (pipelined.has(tx)) (tx as BatchTx).defer(query);
  else await tx.$executeRaw(query);
}

/** Sends what `deferStatement` queued in `tx`, if anything. */
export async function flushDeferred(tx: SqlTx): Promise<void> {
  if (pipelined.has(tx)) await (tx as BatchTx).flush();
}

/** A transaction's statements (BatchTx), and what inSqlTransaction needs to end it. */
interface TxStatements extends BatchTx {
  /** Whether BEGIN has been sent: before the first statement, nothing has, and nothing needs ending. */
  readonly begun: boolean;
  /** Sends what is queued and COMMIT, in one round trip; nothing when no statement was ever sent. */
  commit(): Promise<void>;
}

const BEGIN: Step = { text: "BEGIN", values: [] };
const COMMIT: Step = { text: "COMMIT", values: [] };

/**
 * The transaction's statements on `client`. Results are parsed with `types` on every query, so the
 * client may come from any pool (a command's comes from Prisma's, lib/db.ts poolOf). `closed`
 * tells why the transaction may take no more statements (it ran past its time and was rolled back).
 *
 * BEGIN is not a round trip of its own: it goes with the transaction's first statement (a
 * pipeline), and what `defer` queued goes with the next statement or the COMMIT.
 */
function batchTx(client: pg.PoolClient, onStatement: StatementListener | undefined, closed: () => Error | undefined, prepared: boolean): TxStatements {
  const open = () => {
    const reason = closed();
    if (reason) throw reason;
  };
  let begun = false;
  const deferred: Step[] = [];
  const step = (text: string, values: unknown[]): Step => ({ text, values, name: prepared ? preparedName(client, text) : undefined });
  /** What must precede the next statement on the wire: BEGIN, if not sent yet, and what was deferred. */
  const queued = (): Step[] => {
    const steps = begun ? [] : [BEGIN];
    begun = true;
    steps.push(...deferred.splice(0));
    return steps;
  };
  /** Sends `before` and `last` in one round trip, telling onStatement of each; `last`'s result. */
  const send = async (before: Step[], last: Step): Promise<pg.QueryResult> => {
    const started = onStatement ? performance.now() : 0;
    const result =
      before.length === 0
        ? await client.query({ name: last.name, text: last.text, values: last.values, types })
        : (await pipeline(client, [...before, last])).at(-1)!;
    if (onStatement) {
      // A deferred statement rode with this one: the round trip's time is counted once, here.
      for (const s of before) if (s !== BEGIN) onStatement(s.text, 0);
      if (last !== COMMIT && last !== BEGIN) onStatement(last.text, performance.now() - started);
    }
    return result;
  };
  const run = (text: string, values: unknown[]) => {
    open();
    return send(queued(), step(text, values));
  };
  /** Sends BEGIN, if not sent yet, and what was deferred, in one round trip of their own. */
  const sendQueued = async () => {
    const steps = queued();
    if (steps.length) await send(steps.slice(0, -1), steps.at(-1)!);
  };
  const statement = (query: Query, values: unknown[]) =>
    query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
  const tx: TxStatements = {
    get begun() {
      return begun;
    },
    async commit() {
      open();
      if (!begun && deferred.length === 0) return;
      await send(queued(), COMMIT);
    },
    defer(query: Query, ...values: unknown[]) {
      open();
      const sql = statement(query, values);
      deferred.push(step(sql.text, sql.values));
    },
    async flush() {
      open();
      if (deferred.length > 0) await sendQueued();
    },
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
      const all = [...rows];
      if (all.length === 0) return;
      if (all.length <= INSERT_AT_MOST) {
        // A few rows: one INSERT, deferred, so it rides with the next statement or the COMMIT (a COPY
        // is two round trips, and three socket writes). Each value goes as the text COPY would send,
        // so the column's input function reads the same value.
        const values: (string | null)[] = [];
        const tuples = all.map((row) => `(${row.map((v) => `$${values.push(v === null || v === undefined ? null : copyText(v))}`).join(", ")})`);
        open();
        deferred.push(step(`INSERT INTO ${quoted(table)} (${columns.map(quoted).join(", ")}) VALUES ${tuples.join(", ")}`, values));
        return;
      }
      let text = "";
      for (const row of all) text += copyLine(row);
      open();
      // A COPY cannot be pipelined: BEGIN and what was deferred go first.
      await sendQueued();
      const sql = copyFromStdin(table, columns);
      const started = performance.now();
      const stream = client.query(copyFrom(sql));
      stream.end(text);
      await finished(stream);
      onStatement?.(sql, performance.now() - started);
    },
  };
  pipelined.add(tx);
  return tx;
}

/** No connection of the pool came free within `connectionWaitMs` (inSqlTransaction): nothing ran. */
export class ConnectionWaitExceeded extends Error {
  constructor(readonly waitedMs: number) {
    super(`No database connection came free within ${waitedMs} ms.`);
    this.name = "ConnectionWaitExceeded";
  }
}

/** The transaction ran longer than its `timeoutMs` (inSqlTransaction): rolled back, nothing saved. */
export class SqlTransactionTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`The transaction ran longer than ${timeoutMs} ms and was rolled back; nothing was saved.`);
    this.name = "SqlTransactionTimeout";
  }
}

export interface SqlTransactionOptions {
  /** Told of each statement, with its time in milliseconds. */
  onStatement?: StatementListener;
  /**
   * Each statement as a named prepared statement of its connection (node-postgres `name`), up to
   * PREPARED_PER_CONNECTION a connection: PostgreSQL parses and analyses a text once a connection
   * instead of on every run, and may keep its plan. For transactions of a few fixed statements run
   * again and again: a command, a live projector batch (bench/PERFORMANCE.md, eighth session: at
   * 300-500 createUser/s about a sixth of the machine's CPU per command). A table renamed or replaced
   * under a prepared statement (a rebuild's switch) is found again by name: PostgreSQL re-analyses
   * the statement's text when a table it used changes (tested).
   */
  prepared?: boolean;
  /** How long to wait for a connection before giving up with ConnectionWaitExceeded (default: the pool's own bound). */
  connectionWaitMs?: number;
  /**
   * How long the transaction may run. Past it, it is rolled back at once (after a statement in
   * flight), its connection goes back to the pool, and every later statement of `fn`, and the
   * transaction itself, fail with SqlTransactionTimeout: nothing can run outside it or commit late.
   */
  timeoutMs?: number;
}

/**
 * Runs `fn` in a transaction on a connection of `pool`: committed when it resolves, rolled back
 * when it throws. A connection whose rollback fails too is closed, not handed to the next batch.
 */
export async function inSqlTransaction<T>(pool: pg.Pool, fn: (tx: BatchTx) => Promise<T>, options: SqlTransactionOptions = {}): Promise<T> {
  const client = await connect(pool, options.connectionWaitMs);
  let expired: SqlTransactionTimeout | undefined;
  let released = false;
  const release = (broken?: Error) => {
    if (released) return;
    released = true;
    client.release(broken);
  };
  const { timeoutMs } = options;
  // Once the timer has run, the rollback it sent owns the connection and gives it back.
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          expired = new SqlTransactionTimeout(timeoutMs);
          client.query("ROLLBACK").then(() => release(), (e: Error) => release(e));
        }, timeoutMs);
  let broken: Error | undefined;
  const tx = batchTx(client, options.onStatement, () => expired, options.prepared ?? false);
  try {
    const result = await fn(tx);
    clearTimeout(timer);
    if (expired) throw expired;
    await tx.commit();
    return result;
  } catch (error) {
    clearTimeout(timer);
    if (expired) throw expired;
    if (tx.begun) {
      await client.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
    }
    throw error;
  } finally {
    if (!expired) release(broken);
  }
}

/** A connection of `pool`, waiting at most `waitMs` for one when given. */
async function connect(pool: pg.Pool, waitMs: number | undefined): Promise<pg.PoolClient> {
  if (waitMs === undefined) return pool.connect();
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionWaitExceeded(waitMs)), waitMs);
  });
  try {
    return await Promise.race([pending, gaveUp]);
  } catch (error) {
    // The connection that comes after we gave up goes straight back.
    if (error instanceof ConnectionWaitExceeded) pending.then((c) => c.release(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
