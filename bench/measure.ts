/**
 * One measurement each: the real projector over the backlog, the two raw
 * baselines (kafkajs consume, PostgreSQL multi-row insert), commands at a fixed
 * offered rate (with the plain Prisma insert beside them) and the page queries.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import type { Admin, Kafka } from "kafkajs";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@/generated/prisma/client";
import { endOffsets } from "@/infra/log-harness";
import type { CommandDeps, CommandStep } from "@/lib/command/execute";
import { projectorLingerMs, type KafkaConfig } from "@/lib/config";
import { createDb, type Db } from "@/lib/db";
import { app, decodeEvent, serde } from "@/modules";
import { createLogger } from "@/lib/log";
import type { CopyValue } from "@/lib/module";
import { createProjector, PROJECTOR_CONCURRENCY } from "@/lib/projection/projector";
import { copyLine } from "@/lib/copy-text";
import { createShadowTables, finishShadowTables, REBUILD_SCHEMA } from "@/lib/projection/rebuild/shadow-schema";
import { createUser } from "@/modules/users/application/user-commands";
import { generateBacklog, type BacklogSpec } from "./dataset";
import { hr, percentile } from "./stats";

export type Log = (line: string) => void;

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

export interface PartitionEnd {
  key: string; // topic/partition
  low: bigint;
  high: bigint;
}

/** The partitions that hold messages, with where they end (infra/log-harness.ts, as the tests and drills read them). */
async function partitionEnds(admin: Admin, topics: string[]): Promise<PartitionEnd[]> {
  return (await endOffsets({ admin }, topics))
    .filter((e) => e.high > e.low)
    .map((e) => ({ key: `${e.topic}/${e.partition}`, low: e.low, high: e.high }));
}

/** Tracks per-partition progress towards fixed end offsets; resolves `done` when all are reached. */
function progressTracker(ends: PartitionEnd[]) {
  const remaining = new Map(ends.map((e) => [e.key, e.high]));
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (remaining.size === 0) resolve();
  return {
    done,
    advance(key: string, nextOffset: bigint) {
      const high = remaining.get(key);
      if (high !== undefined && nextOffset >= high) {
        remaining.delete(key);
        if (remaining.size === 0) resolve();
      }
    },
    remaining: () => [...remaining.keys()],
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what()} (after ${Math.round(ms / 1000)} s)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------

export class Databases {
  private readonly created = new Set<string>();
  constructor(
    private readonly adminUrl: string,
    private readonly template: string,
  ) {}

  url(name: string): string {
    const u = new URL(this.adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  }

  private async admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  /** A fresh, migrated database: a copy of the migrated template (CREATE DATABASE … TEMPLATE). */
  async fresh(name: string): Promise<string> {
    await this.admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)} TEMPLATE ${c.escapeIdentifier(this.template)}`);
    });
    this.created.add(name);
    return this.url(name);
  }

  async drop(name: string): Promise<void> {
    await this.admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
    this.created.delete(name);
  }

  async dropAll(): Promise<void> {
    for (const name of [...this.created]) await this.drop(name).catch(() => {});
  }
}

/** A Prisma client that reports every statement with its duration (EXPLAIN capture, DB-time breakdown). */
export function createLoggingDb(url: string, onQuery: (e: { query: string; params: string; duration: number }) => void): Db {
  const client = new PrismaClient({
    adapter: new PrismaPg({ connectionString: url }),
    log: [{ emit: "event", level: "query" }],
  });
  client.$on("query", (e) => onQuery({ query: e.query, params: e.params, duration: e.duration }));
  return client as unknown as Db;
}

// ---------------------------------------------------------------------------
// Projector (rebuild into a fresh database, fresh consumer group, from offset 0)
// ---------------------------------------------------------------------------

export interface ProjectorRun {
  events: number;
  /** projector.start() → every partition's position stored in PostgreSQL. */
  rebuildMs: number;
  /** Partitions assigned (group joined) → last batch committed: all events / that time. */
  sustainedRate: number;
  joinMs: number;
  firstBatchMs: number;
  batches: number;
  meanBatchEvents: number;
  /** Sum of the batch transactions' wall time (incl. commit) / wall time after the join; >1 means overlapping transactions. */
  dbBusy: number;
  deadLetters: number;
  /**
   * The batches' statements as the client timed them: a pipeline's round trip is counted once,
   * with its last statement (lib/sql-tx.ts), so a deferred write's time shows under the statement
   * it rode with.
   */
  queryBreakdown?: Array<{ statement: string; count: number; totalMs: number }>;
  /**
   * PostgreSQL's own execution time per statement over the run (pg_stat_statements, this run's
   * database), or why it was not measured (a server without the module preloaded).
   */
  serverStatements?: Array<{ statement: string; calls: number; rows: number; totalMs: number }> | string;
  cpuProfile?: object;
}

export async function runProjector(opts: {
  kafka: Kafka;
  admin: Admin;
  config: KafkaConfig;
  topics: string[];
  url: string;
  timeoutMs: number;
  profile?: boolean;
  /** The projector's transactions in flight; undefined = its default. */
  concurrency?: number;
  log: Log;
}): Promise<ProjectorRun> {
  const ends = await partitionEnds(opts.admin, opts.topics);
  const total = ends.reduce((s, e) => s + Number(e.high - e.low), 0);
  const tracker = progressTracker(ends);
  const breakdown = new Map<string, { count: number; totalMs: number }>();
  const db = createDb(opts.url);
  // The batches' statements (lib/sql-tx.ts), timed by the projector.
  const onStatement = opts.profile
    ? (text: string, ms: number) => {
        const key = text.replace(/\s+/g, " ").slice(0, 90);
        const b = breakdown.get(key) ?? { count: 0, totalMs: 0 };
        b.count++;
        b.totalMs += ms;
        breakdown.set(key, b);
      }
    : undefined;
  let batches = 0;
  let applied = 0;
  let deadLetters = 0;
  let batchMsSum = 0;
  let tJoin = 0;
  let tFirst = 0;
  let tLast = 0;
  const projector = createProjector({
    db,
    config: opts.config,
    app,
    kafka: opts.kafka,
    concurrency: opts.concurrency,
    // As the worker runs it (a catch-up's batches take longer than the linger, so it holds none of them).
    lingerMs: projectorLingerMs(),
    onStatement,
    logger: createLogger("debug", {
      write: (line: string) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === "partitions assigned" && !tJoin) tJoin = hr();
        // A transaction shared by several partitions' batches (group commit) counts once.
        if (entry.msg === "batch projected" && typeof entry.transactionMs === "number") {
          batchMsSum += entry.transactionMs / (typeof entry.batchesInTransaction === "number" ? entry.batchesInTransaction : 1);
        }
        if (entry.level === "error") opts.log(`  projector: ${line.trim()}`);
      },
    }),
    onBatch: (o) => {
      const now = hr();
      batches++;
      applied += o.applied.length + o.skipped;
      deadLetters += o.deadLetters.length;
      if (!tFirst) tFirst = now;
      tLast = now;
      if (o.nextOffset) tracker.advance(`${o.topic}/${o.partition}`, BigInt(o.nextOffset));
    },
  });
  const serverStats = opts.profile ? await serverStatements(db) : undefined;
  const stopProfile = opts.profile ? await startCpuProfile() : undefined;
  const t0 = hr();
  let serverResult: ProjectorRun["serverStatements"];
  try {
    await projector.start();
    await withTimeout(tracker.done, opts.timeoutMs, () => `projector did not catch up; behind on ${tracker.remaining().slice(0, 5).join(", ")}…`);
  } finally {
    await projector.stop().catch(() => {});
    serverResult = await serverStats?.();
    await db.$disconnect().catch(() => {});
  }
  const cpuProfile = await stopProfile?.();
  const steady = tLast - (tJoin || t0);
  return {
    events: total,
    rebuildMs: tLast - t0,
    sustainedRate: steady > 0 ? ((applied + deadLetters) / steady) * 1000 : Number.NaN,
    joinMs: (tJoin || t0) - t0,
    firstBatchMs: tFirst - (tJoin || t0),
    batches,
    meanBatchEvents: batches ? (applied + deadLetters) / batches : 0,
    dbBusy: steady > 0 ? batchMsSum / steady : Number.NaN,
    deadLetters,
    queryBreakdown: opts.profile
      ? [...breakdown].map(([statement, b]) => ({ statement, ...b })).sort((a, b) => b.totalMs - a.totalMs).slice(0, 15)
      : undefined,
    serverStatements: serverResult,
    cpuProfile,
  };
}

/**
 * Starts counting PostgreSQL's own execution time per statement (pg_stat_statements, reset first);
 * the function returned reads this database's 15 statements that took longest, or the reason they
 * could not be read (a server without the module in shared_preload_libraries). Never throws.
 */
async function serverStatements(db: Db): Promise<() => Promise<NonNullable<ProjectorRun["serverStatements"]>>> {
  const reason = (error: unknown) => (error as Error).message.trim().split("\n").at(-1)!;
  try {
    await db.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await db.$executeRawUnsafe("SELECT pg_stat_statements_reset()");
  } catch (error) {
    const why = reason(error);
    return () => Promise.resolve(why);
  }
  return async () => {
    try {
      const rows = await db.$queryRaw<{ query: string; calls: bigint; rows: bigint; total: number }[]>`
        SELECT query, calls, rows, total_exec_time AS total FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 15`;
      return rows.map((r) => ({ statement: r.query.replace(/\s+/g, " ").trim().slice(0, 90), calls: Number(r.calls), rows: Number(r.rows), totalMs: r.total }));
    } catch (error) {
      return reason(error);
    }
  };
}

/** Starts V8's CPU profiler on this process (sampling every 0.5 ms); the result stops it and gives the profile. */
export async function startCpuProfile(): Promise<() => Promise<object>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 });
  await session.post("Profiler.start");
  return async () => {
    try {
      return (await session.post("Profiler.stop")).profile;
    } finally {
      session.disconnect();
    }
  };
}

/** Self time per function and per area (kafkajs, prisma, pg, zod, app code, GC, idle) from a V8 CPU profile. */
export function summarizeProfile(profile: object) {
  const p = profile as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
    startTime: number;
    endTime: number;
    samples?: number[];
    timeDeltas?: number[];
  };
  const selfUs = new Map<number, number>();
  (p.samples ?? []).forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas?.[i] ?? 0)));
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  const area = (url: string, fn: string) => {
    if (fn === "(idle)") return "idle";
    if (fn === "(garbage collector)") return "GC";
    if (fn === "(program)") return "V8/native (program)";
    if (url.includes("node_modules/kafkajs")) return "kafkajs";
    if (url.includes("@prisma/") || url.includes("generated/prisma")) return "prisma client";
    if (url.includes("node_modules/pg")) return "pg driver";
    if (url.includes("node_modules/zod")) return "zod";
    if (url.includes("/lib/") || url.includes("/modules/")) return "app code (lib, modules)";
    if (url.startsWith("node:") || url === "") return "node internals / builtins";
    return "other";
  };
  for (const node of p.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/main\//, "");
    const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const totalUs = p.endTime - p.startTime;
  const pct = (us: number) => Math.round((us / totalUs) * 1000) / 10;
  return {
    wallMs: Math.round(totalUs / 1000),
    areas: [...byArea].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ area: name, ms: Math.round(us / 1000), pct: pct(us) })),
    topFunctions: [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), pct: pct(us) })),
  };
}

// ---------------------------------------------------------------------------
// Raw kafkajs consume (no database)
// ---------------------------------------------------------------------------

export async function runRawConsume(opts: {
  kafka: Kafka;
  admin: Admin;
  topics: string[];
  groupId: string;
  decode: boolean;
  timeoutMs: number;
}): Promise<{ events: number; rate: number }> {
  const ends = await partitionEnds(opts.admin, opts.topics);
  const tracker = progressTracker(ends);
  // The projector's consumer settings, minus what only matters for a long-lived member.
  const consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false });
  let count = 0;
  let tJoin = 0;
  let tLast = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // Same reference point as the projector's "partitions assigned".
    tJoin ||= hr();
  });
  try {
    await consumer.connect();
    for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // As the projector does, so the baseline reads the same way.
      partitionsConsumedConcurrently: PROJECTOR_CONCURRENCY,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        if (opts.decode) {
          const stream = batch.topic.endsWith("roles") ? "roles" : "users";
          for (const m of batch.messages) decodeEvent(m.value, stream, m.key?.toString("utf8") ?? null);
        }
        count += batch.messages.length;
        tLast = hr();
        resolveOffset(batch.messages.at(-1)!.offset);
        tracker.advance(`${batch.topic}/${batch.partition}`, BigInt(batch.messages.at(-1)!.offset) + 1n);
      },
    });
    await withTimeout(tracker.done, opts.timeoutMs, () => "raw consumer did not reach the end");
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return { events: count, rate: (count / (tLast - tJoin)) * 1000 };
}

// ---------------------------------------------------------------------------
// Raw PostgreSQL multi-row insert (no Kafka): the same rows the projector ends with
// ---------------------------------------------------------------------------

/** The jsonb columns of TIMELINE_COLUMNS (actor, payload, changes). */
const JSON_COLUMNS = new Set([6, 9, 10]);

export async function runRawInsert(opts: {
  url: string;
  spec: BacklogSpec;
  /** Parallel connections: the projector's transactions in flight (PROJECTOR_CONCURRENCY), so both get the same share of a busy machine. */
  connections?: number;
  chunk?: number;
}): Promise<{ events: number; rate: number }> {
  const CHUNK = opts.chunk ?? 2_000;
  const clients = await Promise.all(
    Array.from({ length: opts.connections ?? 2 }, async () => {
      const c = new pg.Client({ connectionString: opts.url });
      await c.connect();
      return c;
    }),
  );
  const insert = async (client: pg.Client, table: string, columns: string[], casts: string[], rows: unknown[][]) => {
    await client.query("BEGIN");
    for (let i = 0; i < rows.length; i += 1_000) {
      const slice = rows.slice(i, i + 1_000);
      const params: unknown[] = [];
      const tuples = slice.map((row) => `(${row.map((v, j) => (params.push(v), `$${params.length}${casts[j]}`)).join(",")})`);
      await client.query(`INSERT INTO ${table} (${columns.join(",")}) VALUES ${tuples.join(",")}`, params);
    }
    await client.query("COMMIT");
  };
  /** Chunks of rows from the (synchronous) generator, shared by the workers. */
  function* chunks<T>(rows: Iterable<T>): Generator<T[]> {
    let chunk: T[] = [];
    for (const row of rows) {
      chunk.push(row);
      if (chunk.length >= CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length) yield chunk;
  }
  const parallel = async <T>(source: Generator<T[]>, write: (c: pg.Client, rows: T[]) => Promise<void>) => {
    await Promise.all(
      clients.map(async (c) => {
        for (let next = source.next(); !next.done; next = source.next()) await write(c, next.value);
      }),
    );
  };
  let events = 0;
  // The same rows, jsonb sent as text (the statement casts it).
  function* timelineRows() {
    for (const row of timelineRowsOf(opts.spec, () => events++)) yield row.map((v, j) => (JSON_COLUMNS.has(j) && v !== null ? JSON.stringify(v) : v));
  }
  const t0 = hr();
  try {
    // Users first, then their timelines: the foreign key (user_events → users) holds whatever the interleaving.
    await parallel(chunks(finalUserRows(opts.spec)), (c, rows) =>
      insert(c, "users", USER_COLUMNS,
        ["::uuid", "", "", "", "::int", "::timestamptz", "::timestamptz", "", ""], rows),
    );
    await parallel(chunks(timelineRows()), (c, rows) =>
      insert(c, "user_events", TIMELINE_COLUMNS.map((column) => `"${column}"`),
        ["::uuid", "::uuid", "::int", "", "::int", "::timestamptz", "::jsonb", "", "", "::jsonb", "::jsonb", "", "::int", "::bigint"], rows),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  return { events, rate: (events / (hr() - t0)) * 1000 };
}

/** The final `users` row of each user of the backlog (its UserCreated), as the projector leaves it. */
function* finalUserRows(spec: BacklogSpec): Generator<CopyValue[]> {
  for (const e of generateBacklog(spec)) {
    if (e.type !== "UserCreated") continue;
    const p = e.payload;
    yield [e.aggregateId, p.email, p.name, false, 1, e.occurredAt, e.occurredAt, p.email.toLowerCase(), p.name.toLowerCase()];
  }
}
const USER_COLUMNS = ["id", "email", "name", "is_deleted", "version", "created_at", "updated_at", "email_lower", "name_lower"];

/** One `user_events` row per event of the backlog (jsonb columns as objects); `counted` is told each. */
function* timelineRowsOf(spec: BacklogSpec, counted: () => number): Generator<CopyValue[]> {
  for (const e of generateBacklog(spec)) {
    let changes: object | null = null;
    if (e.type === "UserCreated") changes = { email: { before: null, after: e.payload.email }, name: { before: null, after: e.payload.name } };
    else if (e.type === "UserUpdated") changes = { name: { before: null, after: e.payload.name } };
    yield [e.id, e.aggregateId, e.sequence, e.type, e.schemaVersion, e.occurredAt, e.actor, e.correlationId, e.causationId, e.payload, changes, "users", 0, counted()];
  }
}
const TIMELINE_COLUMNS = ["event_id", "user_id", "sequence", "type", "schema_version", "occurred_at", "actor", "correlation_id", "causation_id", "payload", "changes", "topic", "partition", "offset"];

/** `COPY table (columns) FROM STDIN` of `rows`, sent in chunks of about 1 MiB. */
async function copyRows(client: pg.Client, table: string, columns: string[], rows: Iterable<CopyValue[]>, { freeze = false } = {}): Promise<void> {
  // As the rebuild's bulk load writes: truncated in the COPY's own transaction, rows written frozen.
  if (freeze) await client.query(`BEGIN; TRUNCATE ${table}`);
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map((c) => `"${c}"`).join(",")}) FROM STDIN${freeze ? " WITH (FREEZE)" : ""}`));
  const done = finished(stream);
  let chunk = "";
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length > 1 << 20) {
      if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
      chunk = "";
    }
  }
  stream.end(chunk);
  await done;
  if (freeze) await client.query("COMMIT");
}

/**
 * The floor under the live projector (issue 15): the same final rows as runRawInsert written with
 * `COPY` into the live schema's `users` and `user_events`, every index and the foreign key in place,
 * on one connection. No Kafka, no decoding, no fold, no offsets: what PostgreSQL alone can take.
 */
export async function runRawCopyLive(opts: {
  url: string;
  spec: BacklogSpec;
  /** More tables' rows to COPY after those two, in this order, as COPY text (`dumpTables`). */
  more?: ReadonlyMap<string, string>;
}): Promise<{ events: number; rate: number }> {
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  let events = 0;
  try {
    const t0 = hr();
    await copyRows(client, "users", USER_COLUMNS, finalUserRows(opts.spec));
    await copyRows(client, "user_events", TIMELINE_COLUMNS, timelineRowsOf(opts.spec, () => events++));
    for (const [table, text] of opts.more ?? []) {
      const stream = client.query(copyFrom(`COPY ${table} FROM STDIN`));
      const done = finished(stream);
      stream.end(text);
      await done;
    }
    return { events, rate: (events / (hr() - t0)) * 1000 };
  } finally {
    await client.end();
  }
}

/**
 * Every row of `tables` in the database at `url`, as `COPY … TO STDOUT` text (all columns, in the
 * table's order): the rows a projector run wrote, to COPY into another database of the same schema.
 */
export async function dumpTables(url: string, tables: readonly string[]): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out = new Map<string, string>();
    for (const table of tables) {
      const chunks: Buffer[] = [];
      const stream = client.query(copyTo(`COPY ${table} TO STDOUT`));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      await finished(stream);
      out.set(table, Buffer.concat(chunks).toString("utf8"));
    }
    return out;
  } finally {
    await client.end();
  }
}

/**
 * The floor under the rebuild's bulk path: the same final rows (one `users` row per user, one
 * `user_events` row per event, regenerated from the seed) written with `COPY` into empty tables
 * without keys or indexes, then the keys, indexes and foreign key built: what
 * lib/projection/rebuild does for these two tables, with no Kafka, no fold and no verification.
 */
export async function runRawCopy(opts: { url: string; spec: BacklogSpec }): Promise<{ events: number; rate: number; copyMs: number; indexMs: number }> {
  const tables = ["users", "user_events"];
  const db = createDb(opts.url);
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  let events = 0;
  try {
    await createShadowTables(db, tables, { keysLater: true, autovacuumLater: true });
    const t0 = hr();
    await copyRows(client, `${REBUILD_SCHEMA}.users`, USER_COLUMNS, finalUserRows(opts.spec), { freeze: true });
    await copyRows(client, `${REBUILD_SCHEMA}.user_events`, TIMELINE_COLUMNS, timelineRowsOf(opts.spec, () => events++), { freeze: true });
    const t1 = hr();
    await finishShadowTables(db, tables, { withKeys: true });
    const t2 = hr();
    return { events, rate: (events / (t2 - t0)) * 1000, copyMs: t1 - t0, indexMs: t2 - t1 };
  } finally {
    await client.end();
    await db.$executeRawUnsafe(`DROP SCHEMA IF EXISTS ${REBUILD_SCHEMA} CASCADE`);
    await db.$disconnect();
  }
}

// ---------------------------------------------------------------------------
// Open-loop load at a fixed offered rate
// ---------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long calls still running after an open loop's last scheduled start may take before it stops waiting. */
export const OPEN_LOOP_GRACE_MS = 30_000;

/**
 * Starts `fn` at fixed intervals whatever the previous calls are doing (open
 * loop), and measures each call from its *scheduled* start, so a stall delays
 * the calls behind it and shows in the latency (no coordinated omission).
 *
 * It stops by itself: it starts at most rate × (warm-up + duration) calls, starts
 * none after the last scheduled start + `graceMs` (an event loop stalled that long),
 * and waits for the calls in flight until then; a measured call still running, or
 * never started, is counted as an error (it keeps running: the caller decides
 * whether to go on beside it). `achievedRate`: the measured calls that completed,
 * per second, over the measured window or until the last of them completed if later.
 */
export async function openLoop(
  rate: number,
  durationMs: number,
  warmupMs: number,
  fn: (i: number, scheduledAt: number, measured: boolean) => Promise<void>,
  options: { graceMs?: number } = {},
): Promise<{ latencies: number[]; errors: string[]; lateStartsMs: number; unfinished: number; achievedRate: number }> {
  const latencies: number[] = [];
  const errors: string[] = [];
  const inflight: Promise<void>[] = [];
  const interval = 1000 / rate;
  const count = Math.round(((warmupMs + durationMs) / 1000) * rate);
  const graceMs = options.graceMs ?? OPEN_LOOP_GRACE_MS;
  const start = hr() + 20;
  const stopAt = start + warmupMs + durationMs + graceMs;
  let lateStartsMs = 0;
  let lastDone = start + warmupMs;
  let settled = 0;
  let measuredStarted = 0;
  let closed = false;
  for (let i = 0; i < count; i++) {
    const at = start + i * interval;
    const measured = at - start >= warmupMs;
    if (hr() > stopAt) {
      if (measured) errors.push(`not started: the loop was ${Math.round(hr() - at)} ms behind its schedule`);
      continue;
    }
    const wait = at - hr();
    if (wait > 1) await sleep(wait);
    lateStartsMs = Math.max(lateStartsMs, hr() - at);
    if (measured) measuredStarted++;
    inflight.push(
      fn(i, at, measured).then(
        () => {
          if (!measured || closed) return;
          settled++;
          lastDone = hr();
          latencies.push(lastDone - at);
        },
        (error: unknown) => {
          if (!measured || closed) return;
          settled++;
          errors.push(String(error));
        },
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(inflight),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, stopAt - hr())))),
  ]).finally(() => clearTimeout(timer));
  closed = true;
  const unfinished = measuredStarted - settled;
  for (let k = 0; k < unfinished; k++) errors.push(`unfinished ${graceMs / 1000} s after the last scheduled start`);
  const windowMs = Math.max(durationMs, lastDone - (start + warmupMs));
  return { latencies, errors, lateStartsMs, unfinished, achievedRate: windowMs > 0 ? (latencies.length / windowMs) * 1000 : Number.NaN };
}

/**
 * Watches pg_notify('read_model') (sent by the projector inside each batch's
 * transaction, so delivered on commit) and tells when a position became visible.
 */
export async function visibilityWatcher(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const seen = new Map<string, Array<{ next: bigint; at: number }>>();
  const waiting = new Map<string, Array<{ offset: bigint; resolve: (at: number) => void }>>();
  client.on("notification", (msg) => {
    const at = hr();
    try {
      const n = JSON.parse(msg.payload ?? "{}") as { topic: string; partition: number; nextOffset: string | null };
      if (!n.nextOffset) return;
      const key = `${n.topic}/${n.partition}`;
      const next = BigInt(n.nextOffset);
      const list = seen.get(key) ?? [];
      list.push({ next, at });
      seen.set(key, list);
      const w = waiting.get(key);
      if (w) {
        const still = w.filter((x) => {
          if (x.offset < next) {
            x.resolve(at);
            return false;
          }
          return true;
        });
        waiting.set(key, still);
      }
    } catch {
      /* not ours */
    }
  });
  await client.query("LISTEN read_model");
  return {
    /** Resolves with the (monotonic) time the projector committed past `offset`. */
    visibleAt(topic: string, partition: number, offset: string): Promise<number> {
      const key = `${topic}/${partition}`;
      const o = BigInt(offset);
      const hit = seen.get(key)?.find((s) => s.next > o);
      if (hit) return Promise.resolve(hit.at);
      return new Promise((resolve) => {
        const list = waiting.get(key) ?? [];
        list.push({ offset: o, resolve });
        waiting.set(key, list);
      });
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

/** When `event` became visible (the watcher's clock), or NaN if not within `timeoutMs`. */
export function visibleWithin(
  watcher: Pick<Awaited<ReturnType<typeof visibilityWatcher>>, "visibleAt">,
  event: { topic: string; partition: number; offset: string },
  timeoutMs: number,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(Number.NaN), timeoutMs)));
  return Promise.race([watcher.visibleAt(event.topic, event.partition, event.offset), timeout]).finally(() => clearTimeout(timer));
}

/**
 * CPU seconds the machine has spent busy since boot, every core (user, nice, system, irq, softirq;
 * not idle, I/O wait or time stolen by a hypervisor), from /proc/stat; NaN where there is none.
 * USER_HZ, its unit, is 100 on Linux.
 */
function machineBusySeconds(): number {
  try {
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function runCommands(opts: {
  deps: CommandDeps;
  rate: number;
  durationMs: number;
  warmupMs: number;
  label: string;
  watcher: Awaited<ReturnType<typeof visibilityWatcher>>;
  visibleTimeoutMs: number;
}) {
  const appends: number[] = [];
  const visible: number[] = [];
  const real = opts.deps.appender;
  // Where a command's time goes, one command at a time (lib/command/execute.ts, CommandStep).
  // Then the same under load, from the end of the warm-up (the loop's tail: which step it is in).
  const steps = new Map<CommandStep, number[]>();
  const loopSteps = new Map<CommandStep, number[]>();
  let recording: Map<CommandStep, number[]> | null = steps;
  let loopStepsFrom = Infinity;
  const deps: CommandDeps = {
    ...opts.deps,
    onStep: (step, ms) => {
      const into = recording ?? (performance.now() >= loopStepsFrom ? loopSteps : null);
      if (!into) return;
      const list = into.get(step);
      if (list) list.push(ms);
      else into.set(step, [ms]);
    },
    appender: {
      prepare: (subjects) => real.prepare(subjects),
      newSubject: () => real.newSubject(),
      appendMany: (events, serde, options) => real.appendMany(events, serde, options),
      async append(events, serde, options) {
        const t = hr();
        try {
          return await real.append(events, serde, options);
        } finally {
          appends.push(hr() - t);
        }
      },
      disconnect: () => real.disconnect(),
    },
  };
  let notVisible = 0;
  const ctx = { actor: { kind: "service", name: "bench" } as const };
  // Service time: one command at a time (no queueing), before the open loop.
  const serial: number[] = [];
  const serialAppends: number[] = [];
  for (let i = 0; i < 40; i++) {
    const before = appends.length;
    const t = hr();
    await createUser(deps, ctx, { email: `serial.${opts.label}.${i}@bench.example.com`, name: `Serial ${opts.label} ${i}` });
    serial.push(hr() - t);
    serialAppends.push(appends[before] ?? Number.NaN);
  }
  appends.length = 0;
  recording = null;
  const serialSteps = Object.fromEntries([...steps].map(([step, ms]) => [step, percentile(ms, 50)])) as Partial<Record<CommandStep, number>>;
  loopStepsFrom = performance.now() + opts.warmupMs;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  // The loop times the acknowledgement; the wait for the read model runs beside it, outside the loop.
  const visibility: Promise<void>[] = [];
  let loopDone = false;
  const load = await openLoop(opts.rate, opts.durationMs, opts.warmupMs, async (i, at, measured) => {
    const result = await createUser(deps, ctx, {
      email: `cmd.${opts.label}.${i}@bench.example.com`,
      name: `Command ${opts.label} ${i}`,
    });
    if (!measured || loopDone) return; // loopDone: acknowledged after the loop's time bound
    const e = result.events[0]!;
    visibility.push(
      visibleWithin(opts.watcher, e, opts.visibleTimeoutMs).then((seenAt) => {
        if (Number.isNaN(seenAt)) notVisible++;
        else visible.push(seenAt - at);
      }),
    );
  });
  loopDone = true;
  loopStepsFrom = Infinity;
  await Promise.all(visibility);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const busy = machineBusySeconds() - busy0;
  const warm = Math.round((opts.warmupMs / 1000) * opts.rate);
  return {
    /** Commands appended, the warm-up's included. */
    appended: appends.length,
    acks: load.latencies,
    achievedRate: load.achievedRate,
    elu,
    /**
     * This process's CPU (user + system) per command appended, over the loop with its warm-up: the
     * console's share of a command (the commands themselves, plus the load generator and the
     * visibility watcher, the same for every run).
     */
    cpuMsPerCommand: appends.length ? (cpu.user + cpu.system) / 1000 / appends.length : Number.NaN,
    /**
     * The whole machine's busy CPU per command appended, over the same loop: the console, the
     * projector worker, PostgreSQL and the broker (and whatever else runs: the same on both sides
     * of an A/B only on a quiet machine).
     */
    machineCpuMsPerCommand: appends.length ? (busy * 1000) / appends.length : Number.NaN,
    serial50: percentile(serial, 50),
    serialAppend50: percentile(serialAppends, 50),
    serialSteps,
    /** Each step's p50 and p99 over the loop's measured part (the commands that ran alongside others). */
    loadSteps: Object.fromEntries([...loopSteps].map(([step, ms]) => [step, { p50: percentile(ms, 50), p99: percentile(ms, 99) }])) as Partial<
      Record<CommandStep, { p50: number; p99: number }>
    >,
    appends: appends.slice(warm),
    errors: load.errors,
    unfinished: load.unfinished,
    lateStartsMs: load.lateStartsMs,
    visible,
    notVisible,
  };
}

/**
 * The Kafka part alone: one UserLoggedIn per call through the app's appender
 * (idempotent producer, acks=all), open loop at the commands' rate; then N
 * appends started together, to show whether concurrent appends overlap or queue.
 */
export async function runAppendOnly(opts: { appender: CommandDeps["appender"]; rate: number; durationMs: number; warmupMs: number }) {
  const event = (_i: number, seq: number) => ({
    id: randomUUID(),
    type: "UserLoggedIn" as const,
    schemaVersion: 1,
    aggregateId: randomUUID(),
    sequence: seq,
    occurredAt: new Date().toISOString(),
    actor: { kind: "service" as const, name: "bench" },
    correlationId: randomUUID(),
    causationId: null,
    payload: { ip: null, userAgent: "bench" },
  });
  // The appender given here writes to topics of their own (another prefix) that nobody consumes.
  const loop = await openLoop(opts.rate, opts.durationMs, opts.warmupMs, async (i) => {
    await opts.appender.append([event(i, 1)], serde);
  });
  const burst = async (n: number) => {
    const t = hr();
    await Promise.all(Array.from({ length: n }, (_, i) => opts.appender.append([event(100_000 + i, 1)], serde)));
    return hr() - t;
  };
  const one = [await burst(1), await burst(1), await burst(1)].sort((a, b) => a - b)[1]!;
  const ten = [await burst(10), await burst(10), await burst(10)].sort((a, b) => a - b)[1]!;
  return { latencies: loop.latencies, errors: loop.errors.length, oneMs: one, tenConcurrentMs: ten };
}

export async function runCrudInserts(opts: { db: Db; rate: number; durationMs: number; warmupMs: number; label: string }) {
  const elu0 = performance.eventLoopUtilization();
  const result = await openLoop(opts.rate, opts.durationMs, opts.warmupMs, async (i) => {
    const now = new Date();
    const email = `crud.${opts.label}.${i}@bench.example.com`;
    const name = `Crud ${opts.label} ${i}`;
    await opts.db.user.create({
      data: { id: randomUUID(), email, name, version: 1, createdAt: now, updatedAt: now, emailLower: email, nameLower: name.toLowerCase() },
    });
  });
  return { ...result, elu: performance.eventLoopUtilization(elu0).utilization };
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

export async function timeCalls(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = hr();
    await fn(i);
    out.push(hr() - t);
  }
  return out;
}

export const p = (values: number[], q: number) => percentile(values, q);

export type QueryRun = { p50: number; p95: number; perVariant: Record<string, { p50: number; p95: number }> };

/**
 * One run of page queries: each variant warmed with 5 calls, then called one at a time at least 20
 * and at most 100 times (or for 15 s); p50/p95 per variant and over the `main` ones together.
 */
export async function measureVariants(list: Array<{ name: string; main: boolean; call: () => Promise<unknown> }>): Promise<QueryRun> {
  const main: number[] = [];
  const perVariant: Record<string, { p50: number; p95: number }> = {};
  for (const v of list) {
    await timeCalls(5, v.call);
    const began = hr();
    const times: number[] = [];
    while (times.length < 100 && (times.length < 20 || hr() - began < 15_000)) times.push(...(await timeCalls(1, v.call)));
    perVariant[v.name] = { p50: p(times, 50), p95: p(times, 95) };
    if (v.main) main.push(...times);
  }
  return { p50: p(main, 50), p95: p(main, 95), perVariant };
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement `run` sends through Prisma. */
export async function explainStatements(url: string, run: (db: Db) => Promise<unknown>): Promise<Array<{ sql: string; plan: string }>> {
  const captured: Array<{ query: string; params: string }> = [];
  const db = createLoggingDb(url, (e) => captured.push(e));
  try {
    await run(db);
  } finally {
    await db.$disconnect();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const out: Array<{ sql: string; plan: string }> = [];
  try {
    for (const c of captured) {
      if (!/^\s*SELECT/i.test(c.query)) continue;
      let params: unknown[] = [];
      try {
        params = JSON.parse(c.params) as unknown[];
      } catch {
        /* leave empty */
      }
      try {
        const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${c.query}`, params);
        out.push({ sql: c.query, plan: res.rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n") });
      } catch (error) {
        out.push({ sql: c.query, plan: `EXPLAIN failed: ${(error as Error).message}` });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}
