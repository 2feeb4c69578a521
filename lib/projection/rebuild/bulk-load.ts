/**
 * The rebuild's bulk path (server only): the shadow tables start empty and
 * nobody reads them, so the log up to the live positions at the start is
 * folded in memory and written with COPY, before any index exists, instead of
 * batch by batch through `applyBatch` (read, upsert, index updates per batch).
 *
 * Per fetched batch it does what `applyBatch` does for a rebuild, in the same
 * order and with the same code: the batch's key ring (personal data, read per
 * batch as the per-batch path does), decode, the partition check, dedupe by
 * event id, each module's `project` into its in-memory states. What cannot be
 * applied is skipped (a rebuild records no dead letters). Timeline rows stream
 * into COPY while the fold goes on (PostgreSQL parses on the other core); each
 * module's other tables come from its collector (lib/module.ts `bulk`) at the end.
 * Each table gets its keys, indexes and statistics as soon as its own rows are
 * written (shadowTableBuilder, two tables at a time), the foreign keys last.
 *
 * An erasure (an event whose type `erasesPerson`) is scrubbed afterwards, in
 * log order, by the same `scrubErasedPerson` the per-batch path runs, once the
 * indexes exist (`scrubErasures`). Scrubbing later gives the same tables: the
 * person's own aggregate takes no event after its erasure, and every later
 * event that names them reads [erased] already (their key was destroyed before
 * it was read).
 *
 * Nothing here is one transaction: a failure fails the rebuild, which drops
 * the shadow schema. The verification then compares every table with the live
 * model, as for the per-batch path.
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { finished } from "node:stream/promises";
import type { Db } from "@/lib/db";
import type { AnyEvent } from "@/lib/events/envelope";
import { keyPartition } from "@/lib/kafka/partitioner";
import { streamOfTopic } from "@/lib/kafka/topics";
import type { BulkCollector, BulkTable, Projection } from "@/lib/module";
import { wantedKeys } from "@/lib/privacy/personal-data";
import { scrubErasedPerson } from "@/lib/privacy/scrub";
import { copyFromStdin, inSqlTransaction, sqlPoolOf } from "@/lib/sql-tx";
import { partitionCounts } from "@/lib/kafka/partition-counts";
import { lazyAdmin, PROJECTION_CONSUMER, PROJECTOR_CONCURRENCY, type ProjectionApp } from "../projector";
import { positionKey, type Positions } from "../positions";
import { CannotApplyEventError, timelineColumns, timelineValues, type TimelineRow } from "../timeline";
import { copyLine } from "@/lib/copy-text";
import { REBUILD_SCHEMA, shadowTableBuilder } from "./shadow-schema";
import type { RebuildReaderDeps } from "./shadow-consumer";
import type { StartDecoder } from "./decode-threads";

/** Whether every module of `app` can take the bulk path (else the rebuild replays batch by batch). */
export function canBulkLoad(app: Pick<ProjectionApp, "modules">): boolean {
  return app.modules.every((m) => typeof m.projection.bulk === "function");
}

/** What the load leaves for after the indexes: the erasures it met, in log order. */
export interface BulkLoadResult {
  /** Messages handled (applied, duplicate or not applicable). */
  messages: bigint;
  erasures: Array<{ stream: string; subject: string }>;
}

export interface BulkLoader {
  /** Messages handled so far (progress). */
  readonly done: bigint;
  /** The log is folded: the tables are being written and indexed (the rebuild's "indexing"). */
  readonly folded: boolean;
  /** Resolves when every table is written up to `until`, with its keys, indexes and foreign keys. */
  readonly result: Promise<BulkLoadResult>;
  /** Stops reading and aborts the COPYs (cancel or failure); the caller drops the shadow schema. */
  stop(): Promise<void>;
}

/**
 * One `COPY … FROM STDIN` into an empty shadow table, on a connection of its own, in a transaction
 * that truncates the table first, so that the COPY may FREEZE its rows: they are written frozen,
 * their pages marked all-visible, as a VACUUM FREEZE would leave them. So nothing reading them
 * later (the index builds, the verification's checksums, the live projector and pages after the
 * switch) has to look up their transaction or set a hint bit, dirtying every page once more; the
 * first autovacuum of the switched tables has nothing to do; and index-only scans work at once.
 * The TRUNCATE locks the table until the COPY commits: nobody else writes a shadow table while
 * the bulk load fills it (`claim` makes sure of it).
 */
async function openCopy(url: string, table: string, columns: readonly string[], claim: (table: string) => void) {
  claim(table);
  const client = new pg.Client({ connectionString: url });
  let failed: Error | null = null;
  // A connection lost outside a query is an 'error' event: unhandled, it would end the process.
  client.on("error", (error: Error) => (failed ??= error));
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query(`TRUNCATE ${copyTarget(table)}`);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  const stream = client.query(copyFrom(copyFromStdin(table, columns, REBUILD_SCHEMA, { freeze: true })));
  // An error before the end would otherwise be unhandled until `end` awaits it.
  const done = finished(stream);
  done.catch(() => {});
  stream.on("error", (error: Error) => (failed ??= error));
  return {
    async write(chunk: string): Promise<void> {
      if (failed) throw failed;
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onError = (error: Error) => reject(error);
          stream.once("error", onError);
          stream.once("drain", () => {
            stream.off("error", onError);
            resolve();
          });
        });
      }
    },
    async end(): Promise<void> {
      stream.end();
      try {
        await done;
        await client.query("COMMIT");
      } finally {
        await client.end().catch(() => {});
      }
    },
    async abort(): Promise<void> {
      stream.destroy(new Error("bulk load stopped"));
      await client.end().catch(() => {});
    },
  };
}
type CopyWriter = Awaited<ReturnType<typeof openCopy>>;

const copyTarget = (table: string) => `"${REBUILD_SCHEMA}"."${table.replaceAll('"', '""')}"`;

/** Writes a whole table with one COPY, in chunks of about 1 MB. */
async function copyTable(url: string, table: BulkTable, claim: (table: string) => void): Promise<void> {
  const writer = await openCopy(url, table.table, table.columns, claim);
  try {
    let chunk = "";
    for (const row of table.rows) {
      chunk += copyLine(row);
      if (chunk.length > 1 << 20) {
        await writer.write(chunk);
        chunk = "";
      }
    }
    if (chunk) await writer.write(chunk);
    await writer.end();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

interface StreamFold {
  stream: string;
  projection: Projection;
  collector: BulkCollector;
  states: Map<string, unknown>;
  /** Event ids applied: an event published twice is applied once (applyBatch's dedupe). */
  seen: Set<string>;
  inClear: number;
  /** Opened by the first batch with rows (a promise: batches of several partitions run at once). */
  timeline: Promise<CopyWriter> | null;
}

/**
 * Starts folding `topics` from their beginning up to `until` (the live positions when the
 * rebuild started), writing the shadow tables with COPY. `stop` ends it early.
 */
export function startBulkLoad(deps: RebuildReaderDeps & { databaseUrl: string; until: Positions; decoder?: StartDecoder }): BulkLoader {
  const { db, databaseUrl: url, kafka, group, topics, config, app, personalData, until, log } = deps;
  const folds = new Map<string, StreamFold>(
    app.modules.map((m) => [
      m.stream.name,
      {
        stream: m.stream.name,
        projection: m.projection,
        collector: m.projection.bulk!(),
        states: new Map(),
        seen: new Set(),
        inClear: 0,
        timeline: null,
      },
    ]),
  );
  /** Per partition: the next offset to handle and the Kafka time of the last message handled. */
  const positions = new Map<string, { topic: string; partition: number; next: bigint; lastEventAt: Date | null }>();
  const remaining = new Set([...until].filter(([, offset]) => offset > 0n).map(([key]) => key));
  const erasures: BulkLoadResult["erasures"] = [];
  let done = 0n;
  // Each COPY truncates its table first: a second COPY into one table would wipe the first's rows.
  const copied = new Set<string>();
  const claim = (table: string) => {
    if (copied.has(table)) throw new Error(`the bulk load writes ${table} twice (two modules' collectors or timelines name it)`);
    copied.add(table);
  };
  let consumer: Consumer | null = null;
  let stopped = false;
  let folded = false;
  // Read from the live tables' catalog while the fold starts (keys too: createShadowTables left them out).
  const builderReady = shadowTableBuilder(db, app.readModelTables, { withKeys: true });
  builderReady.catch(() => {}); // awaited by run()
  const admin = lazyAdmin(kafka);
  const partitionsOf = partitionCounts(admin.get);
  // Started now: each thread loads the modules while the consumer joins its group.
  const decoder = deps.decoder?.() ?? null;

  let finish: (error?: Error) => void = () => {};
  const allRead = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  // Awaited by run(); a stop before run() reaches it must not be an unhandled rejection.
  allRead.catch(() => {});
  if (remaining.size === 0) finish();

  async function eachBatch({ batch, isRunning, isStale }: EachBatchPayload) {
    if (stopped || !isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const key = positionKey(topic, partition);
    if (!remaining.has(key)) return;
    const limit = until.get(key) ?? 0n;
    const at = positions.get(key)?.next ?? -1n;
    const messages = batch.messages.filter((m) => BigInt(m.offset) >= at && BigInt(m.offset) < limit);
    if (messages.length === 0) return;
    try {
      const stream = streamOfTopic(topic, config, app.streams);
      const fold = folds.get(stream)!;
      const partitions = await partitionsOf(topic);
      const wanted = wantedKeys(messages);
      const ring = await personalData.ring(db, wanted);
      if (stopped) return;
      // On a decoding thread, while this one folds other batches; else here, one message at a time.
      const decoded = decoder ? await decoder.decode(stream, messages, wanted, ring) : null;
      if (stopped) return;
      const rows: TimelineRow[] = [];
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const result = decoded ? decoded[i]! : app.serde.decode(m.value, stream, m.key?.toString("utf8") ?? null, ring);
        if (!result.ok || keyPartition(result.event.aggregateId, partitions) !== partition) continue;
        const event: AnyEvent = result.event;
        if (fold.seen.has(event.id)) continue;
        let row: TimelineRow;
        try {
          row = fold.projection.project(fold.states, event, { topic, partition, offset: m.offset });
        } catch (error) {
          if (error instanceof CannotApplyEventError) continue;
          throw error;
        }
        fold.seen.add(event.id);
        if (result.clearSubjects) {
          row.clearSubjects = result.clearSubjects;
          fold.inClear += 1;
        }
        rows.push(row);
        if (app.registry[event.type]?.erasesPerson) erasures.push({ stream, subject: event.aggregateId });
      }
      fold.collector.add(fold.states, rows);
      const last = messages.at(-1)!;
      const next = BigInt(last.offset) + 1n;
      positions.set(key, { topic, partition, next, lastEventAt: kafkaTime(last.timestamp) ?? positions.get(key)?.lastEventAt ?? null });
      done += BigInt(messages.length);
      if (next >= limit) {
        remaining.delete(key);
        consumer?.pause([{ topic, partitions: [partition] }]);
        if (remaining.size === 0) finish();
      }
      if (rows.length) {
        fold.timeline ??= openCopy(url, fold.projection.timeline.table, timelineColumns(fold.projection.timeline.idColumn), claim);
        let chunk = "";
        for (const r of rows) chunk += copyLine(timelineValues(r));
        await (await fold.timeline).write(chunk);
      }
    } catch (error) {
      // Not retried by kafkajs: the states may hold half of this batch. The rebuild fails and drops the shadow.
      finish(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async function run(): Promise<BulkLoadResult> {
    if (remaining.size > 0) {
      consumer = kafka.consumer({
        groupId: deps.rebuildGroup,
        ...PROJECTION_CONSUMER,
        maxWaitTimeInMs: 100,
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        log.error({ err: payload.error, restart: payload.restart }, "rebuild bulk consumer crashed");
        if (!payload.restart) finish(payload.error);
      });
      await consumer.connect();
      for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: PROJECTOR_CONCURRENCY, eachBatch });
    }
    try {
      await allRead;
    } finally {
      await consumer?.disconnect().catch(() => {});
      await admin.close().catch(() => {});
      await decoder?.close();
    }
    log.info({ messages: String(done) }, "rebuild bulk load: log folded; writing the tables and building their indexes");
    folded = true;
    // Each table gets its keys, indexes and statistics as soon as its own rows are written (two
    // tables at a time: shadowTableBuilder), so the sorts of the timeline, written during the
    // fold, run while this process formats and PostgreSQL parses the modules' other tables.
    const builder = await builderReady;
    const writeFold = async (fold: StreamFold) => {
      const timeline = fold.timeline;
      fold.timeline = null;
      const ownTables = (async () => {
        // Each COPY on a connection of its own: PostgreSQL parses one while this process formats the next.
        const tables = fold.collector.tables(fold.states);
        await settleAll(tables.map((table) => copyTable(url, table, claim)));
        if (fold.collector.finish) {
          await db.$transaction(
            async (tx) => {
              await tx.$executeRaw`SELECT set_config('search_path', ${REBUILD_SCHEMA}, true)`;
              await fold.collector.finish!(tx);
            },
            { timeout: 30 * 60_000 },
          );
        }
        await settleAll(tables.map((table) => builder.build(table.table)));
      })();
      const timelineTable = (async () => {
        await (await timeline)?.end();
        await builder.build(fold.projection.timeline.table);
      })();
      await settleAll([ownTables, timelineTable]);
    };
    const bookkeeping: BulkTable[] = [
      {
        table: "personal_data_in_clear",
        columns: ["stream", "events"],
        rows: [...folds.values()].filter((f) => f.inClear > 0).map((f) => [f.stream, f.inClear]),
      },
      {
        table: "projection_offsets",
        columns: ["consumer_group", "topic", "partition", "next_offset", "updated_at", "last_event_at"],
        rows: [...positions.values()].map((p) => [group, p.topic, p.partition, p.next, new Date().toISOString(), p.lastEventAt?.toISOString() ?? null]),
      },
    ];
    await settleAll([
      ...[...folds.values()].map(writeFold),
      ...bookkeeping.map(async (table) => {
        await copyTable(url, table, claim);
        await builder.build(table.table);
      }),
    ]);
    // Every other table (none written: say, a module whose log is empty), then the foreign keys.
    await builder.finish();
    return { messages: done, erasures };
  }

  const result = run();
  result.catch(() => {});
  return {
    get done() {
      return done;
    },
    get folded() {
      return folded;
    },
    result,
    async stop() {
      stopped = true;
      finish(new Error("bulk load stopped"));
      await consumer?.disconnect().catch(() => {});
      await decoder?.close();
      for (const fold of folds.values()) await (await fold.timeline?.catch(() => null))?.abort();
      await result.catch(() => {});
    },
  };
}

/**
 * The erasures the bulk load met, scrubbed in log order on the shadow tables (indexes built),
 * by the per-batch path's own `scrubErasedPerson`.
 */
export async function scrubErasures(db: Db, app: ProjectionApp, erasures: BulkLoadResult["erasures"]): Promise<void> {
  if (erasures.length === 0) return;
  const pool = sqlPoolOf(db, { max: 1, connectionTimeoutMs: 10_000 });
  try {
    for (const { stream, subject } of erasures) {
      await inSqlTransaction(pool, async (tx) => {
        await tx.$executeRaw`SELECT set_config('search_path', ${REBUILD_SCHEMA}, true)`;
        await scrubErasedPerson(tx, app, stream, subject, { rebuild: true });
      });
    }
  } finally {
    await pool.end();
  }
}

/**
 * Waits for every promise to settle, then throws the first failure: a failed table must not
 * leave the others' COPYs and index builds running behind the rebuild's DROP SCHEMA.
 */
async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Kafka's millisecond timestamp as a Date (null when missing or not a number), as applyBatch stores it. */
function kafkaTime(timestamp: string | undefined): Date | null {
  const ms = Number(timestamp);
  return timestamp && Number.isFinite(ms) && ms > 0 ? new Date(ms) : null;
}
