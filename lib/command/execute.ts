/**
 * The one writer. For one aggregate, in one short PostgreSQL transaction:
 * lock the aggregate's head row → decide against its state → run the
 * command's own bookkeeping (e.g. email reservations) → append to Kafka and
 * wait for the ack → advance the head → commit.
 *
 * The row lock makes appends to one aggregate strictly one at a time, so
 * sequences never collide and a stale expectedVersion is always caught. If
 * Kafka fails, the transaction rolls back: no version advanced, no email held.
 *
 * Three round trips to PostgreSQL and one to the broker (lib/sql-tx.ts pipelines
 * them): BEGIN with the lock; the head's save with the module's first statement;
 * the broker's ack; the COMMIT. A command that creates an aggregate under an id
 * minted for it has no head to lock: BEGIN, the head's insert and the module's
 * first statement share one round trip, and the COMMIT is the second.
 */
import { randomUUID } from "node:crypto";
import { Prisma } from "@/generated/prisma/client";
import { poolOf, type Db } from "@/lib/db";
import { DomainError } from "@/lib/errors";
import type { Serde } from "@/lib/events/codec";
import type { Actor, AnyEvent, NewEvent } from "@/lib/events/envelope";
import type { AppendedEvent, EventAppender } from "@/lib/kafka/producer";
import type { StreamDefinition } from "@/lib/module";
import { ConnectionWaitExceeded, deferStatement, flushDeferred, inSqlTransaction, type SqlTx } from "@/lib/sql-tx";

export type Tx = Prisma.TransactionClient;

/** How long a command waits for a free connection from the pool before it is refused. */
const CONNECTION_WAIT_MS = 5_000;

/**
 * A command's transaction: `fn` in one PostgreSQL transaction, at most `timeoutMs` long. When no
 * connection comes free within CONNECTION_WAIT_MS (the console is overloaded: past its capacity,
 * commands queue for the pool), the command is refused as "unavailable" with a message that says
 * so and that nothing was saved, instead of the driver's "Transaction API error".
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, timeoutMs = 20_000): Promise<T> {
  try {
    return await db.$transaction(fn, { maxWait: CONNECTION_WAIT_MS, timeout: timeoutMs });
  } catch (error) {
    if (isPoolExhausted(error)) throw poolExhausted();
    throw error;
  }
}

/**
 * A single-aggregate command's transaction: like inTransaction, but raw on node-postgres, on a
 * connection of the client's own pool (lib/db.ts poolOf). A command is a few short statements (its
 * head's lock, its bookkeeping, the head's save, the commit) around the broker's ack; through
 * Prisma's interactive transaction each of them cost about 0.3 ms of the console's CPU more, and
 * as much in latency (bench/PERFORMANCE.md, seventh session). A client not made by createDb, or
 * one disconnected since, goes through Prisma.
 */
async function inCommandTransaction<T>(db: Db, fn: (tx: SqlTx) => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const pool = poolOf(db);
  if (!pool) return inTransaction(db, fn, timeoutMs);
  try {
    return await inSqlTransaction(pool, fn, { connectionWaitMs: CONNECTION_WAIT_MS, timeoutMs, prepared: true });
  } catch (error) {
    if (error instanceof ConnectionWaitExceeded) throw poolExhausted();
    throw error;
  }
}

function poolExhausted(): DomainError {
  return new DomainError(
    "unavailable",
    `The console is too busy to take this change now: no database connection came free within ${CONNECTION_WAIT_MS / 1000} s. Nothing was saved; try again.`,
  );
}

/** Prisma's P2028 when the transaction could not even start (not when one timed out later). */
function isPoolExhausted(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === "P2028" && typeof e.message === "string" && e.message.includes("Unable to start a transaction");
}

export interface CommandContext {
  actor: Actor;
  /**
   * What the actor may grant: set for people and tokens (console, API), so a
   * command that hands out permissions (assigning a role, editing a role's
   * permissions) refuses any the actor does not hold itself. Absent for the
   * system's own commands (bootstrap, tests, tools), which grant freely.
   */
  grantable?: ReadonlySet<string>;
  /** Ties together everything one request caused; generated when absent. */
  correlationId?: string;
  causationId?: string | null;
}

export interface CommandDeps {
  db: Db;
  appender: EventAppender;
  now?: () => Date;
  newId?: () => string;
  /** Told how long each step of a command took (the benchmark's breakdown of a command's time). */
  onStep?: (step: CommandStep, ms: number) => void;
}

/**
 * A command's steps, in order: a pooled connection ("begin"), BEGIN and the lock of the aggregate's
 * head (one round trip), deciding, the module's own statements with the head's save riding on
 * the first of them ("before-append"), the head's save when the module has no statement
 * ("save-head"), waiting for the people's keys (made beside the transaction), the broker's ack,
 * and the commit.
 */
export type CommandStep = "begin" | "lock" | "decide" | "before-append" | "save-head" | "keys" | "append" | "commit";

export interface CommandResult {
  aggregateId: string;
  /** The aggregate's version after the command (unchanged when no event was needed). */
  version: number;
  /** Where each event landed: the UI waits for the projector to pass these offsets. */
  events: AppendedEvent[];
}

export interface StreamCommand<S, E extends AnyEvent> {
  /** The aggregate's stream (modules/streams.ts): its head rows' type. */
  stream: StreamDefinition;
  /** The module's serde: the version of each new event, and its validation and topic on append. */
  serde: Serde<E>;
  streamId: string;
  decide: (state: S | null) => NewEvent<E>[];
  evolve: (state: S | null, event: E) => S;
  /**
   * Runs inside the transaction after decide, before the append (may throw a DomainError). Raw SQL
   * only: the transaction is Prisma's only when the caller passed one (executeOnStream's `tx`).
   */
  beforeAppend?: (tx: SqlTx, state: S | null, events: E[]) => Promise<void>;
  /**
   * `streamId` was minted for this command (a new random id, known to nobody else until the
   * command returns it): there is no head to lock, so none is read and `decide` gets `null`. The
   * head is inserted, not upserted, so an id that turns out to exist fails the command instead of
   * overwriting another aggregate's head. Saves the command's first round trip to PostgreSQL.
   */
  minted?: boolean;
  /**
   * The command destroys the aggregate's key in its transaction (an erasure): no key is made for
   * the aggregate beside it. That insert would wait for the transaction's own tombstone row, while
   * the transaction waits for it before its append.
   */
  destroysAggregateKey?: boolean;
}

export async function executeOnStream<S extends { version: number }, E extends AnyEvent>(
  deps: CommandDeps,
  ctx: CommandContext,
  command: StreamCommand<S, E>,
  tx?: SqlTx,
): Promise<CommandResult> {
  // The keys of the people this command's events can name (its aggregate, its actor) are created
  // and committed on the key store's own pool while the transaction runs, and awaited before the
  // append (lib/privacy/key-store.ts, prepare): a reader that sees an event always finds its key.
  const aggregateIsPerson =
    !command.destroysAggregateKey && Object.values(command.serde.registry).some((spec) => spec.personal?.length);
  const keysReady = deps.appender.prepare([...(aggregateIsPerson ? [command.streamId] : []), ...(ctx.actor.kind === "user" ? [ctx.actor.userId] : [])]);
  keysReady.catch(() => {}); // awaited below; a command that appends nothing does not wait for it
  let mark = performance.now();
  const step = (name: CommandStep) => {
    const at = performance.now();
    deps.onStep?.(name, at - mark);
    mark = at;
  };
  const run = async (t: SqlTx): Promise<CommandResult> => {
    step("begin");
    const head = command.minted ? null : await lockStream<S>(t, command.stream, command.streamId);
    step("lock");
    const state = head?.state ?? null;
    const version = head?.version ?? 0;
    const decided = command.decide(state);
    if (decided.length === 0) return { aggregateId: command.streamId, version, events: [] };

    const events = newEvents(deps, ctx, command.serde, command.streamId, version, decided);
    const next = events.reduce<S | null>((s, e) => command.evolve(s, e), state)!;
    step("decide");
    // The head's save rides with the module's first statement (or alone, when it has none): one
    // round trip fewer. Both are sent before the append. With a minted id, BEGIN rides with them too.
    await deferStatement(t, command.minted ? insertStreamHead(command.stream, command.streamId, next) : saveStreamHead(command.stream, command.streamId, next));
    await command.beforeAppend?.(t, state, events);
    step("before-append");
    await flushDeferred(t);
    step("save-head");
    await keysReady;
    step("keys");
    // Last: once the broker has acknowledged, only the commit remains.
    const appended = await deps.appender.append(events, command.serde, { tx: t });
    step("append");
    return { aggregateId: command.streamId, version: next.version, events: appended };
  };
  commandsRunning++;
  lastCommandAt = performance.now();
  try {
    if (tx) return await run(tx);
    const result = await inCommandTransaction(deps.db, run);
    step("commit");
    return result;
  } catch (error) {
    if (command.minted && isHeadTaken(error)) {
      // Only a collision of random ids gets here: another try mints another id.
      throw new DomainError("invariant", `The new ${command.stream.headType}'s id ${command.streamId} is already taken. Nothing was saved; try again.`);
    }
    throw error;
  } finally {
    if (--commandsRunning === 0) for (const wake of [...idle]) wake();
  }
}

/** Single-aggregate commands running in this process, and who waits for there to be none. */
let commandsRunning = 0;
let lastCommandAt = -Infinity;
const idle = new Set<() => void>();

/**
 * The size of a long command's next batch: `full` on a quiet console; a fifth of it while single
 * commands are arriving in this process (one began within the last second), so a command that
 * arrives during a batch shares the machine with a short one. The long command takes longer.
 */
export function pacedBatchSize(full: number): number {
  return performance.now() - lastCommandAt < 1_000 ? Math.max(1, Math.floor(full / 5)) : full;
}

/**
 * Pacing for a command that works through many aggregates in batches (a role's deletion, a bulk
 * change), called between two batches: while single commands are running in this process, waits
 * for them to finish (at most `maxMs`) before the next batch competes with them for the CPU,
 * PostgreSQL and the broker. A command that arrives during a batch still shares the machine with
 * that one batch; with nothing running it returns at once, so an idle console loses no time.
 */
export async function yieldToCommands(maxMs = 100): Promise<void> {
  if (commandsRunning === 0) return;
  await new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      idle.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, maxMs);
    idle.add(wake);
  });
}

export interface ManyStreamCommand<S, E extends AnyEvent> {
  /** The aggregates' stream (all of them are of this one). */
  stream: StreamDefinition;
  serde: Serde<E>;
  streamIds: readonly string[];
  /** One aggregate's decision; an aggregate with no head row gets `null`. */
  decide: (streamId: string, state: S | null) => NewEvent<E>[];
  evolve: (state: S | null, event: E) => S;
  /**
   * Runs first inside the transaction, before the heads are locked: e.g. a share lock on another
   * aggregate the decisions depend on (lock order: that one, then these). May throw: nothing is done.
   */
  beforeLock?: (tx: Tx) => Promise<void>;
  /** Runs inside the transaction after every decision, before the append (e.g. a progress count). */
  beforeAppend?: (tx: Tx, events: E[]) => Promise<void>;
  /**
   * An id whose head row is another aggregate's (e.g. a role's id in a list of users): told here and
   * left alone, the others go on. Without it, such an id fails the whole command.
   */
  onOtherType?: (streamId: string) => void;
}

/**
 * The same writer for many aggregates at once: one transaction locks all their head rows (in id
 * order, so two such commands never deadlock, and a single-aggregate command waits at most one
 * batch), decides for each, saves every changed head in one statement, and appends every event in
 * one produce request (`appendMany`); the commit follows the ack. Every aggregate keeps its own
 * sequence and its own decision; it is all or nothing, like one command. For a command that
 * touches many aggregates (a role's deletion unassigning its members), in batches of a few hundred:
 * each batch is short, so other commands on those aggregates are held for one batch at most.
 */
export async function executeOnStreams<S extends { version: number }, E extends AnyEvent>(
  deps: CommandDeps,
  ctx: CommandContext,
  command: ManyStreamCommand<S, E>,
): Promise<AppendedEvent<E>[]> {
  return inTransaction(
    deps.db,
    async (t) => {
      await command.beforeLock?.(t);
      const ids = [...new Set(command.streamIds)].sort();
      const heads = await t.$queryRaw<{ id: string; version: number; state: S; type: string }[]>`
        SELECT id::text, version, state, type FROM streams WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
      const byId = new Map(heads.map((h) => [h.id, h]));
      const events: E[] = [];
      const nextHeads: Array<{ id: string; version: number; state: S }> = [];
      for (const id of ids) {
        const head = byId.get(id);
        if (head && head.type !== command.stream.headType) {
          if (!command.onOtherType) throw new Error(`stream ${id} is a ${head.type}, not a ${command.stream.headType}`);
          command.onOtherType(id);
          continue;
        }
        const state = head?.state ?? null;
        const mine = newEvents(deps, ctx, command.serde, id, head?.version ?? 0, command.decide(id, state));
        if (mine.length === 0) continue;
        events.push(...mine);
        nextHeads.push({ id, version: mine.at(-1)!.sequence, state: mine.reduce<S | null>((s, e) => command.evolve(s, e), state)! });
      }
      if (events.length === 0) return [];
      await command.beforeAppend?.(t, events);
      await t.$executeRaw`
        INSERT INTO streams (id, type, version, state, updated_at)
        SELECT h.id, ${command.stream.headType}, h.version, h.state, now()
        FROM jsonb_to_recordset(${JSON.stringify(nextHeads)}::jsonb) AS h(id uuid, version int, state jsonb)
        ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = now()`;
      // The keys these events name (normally just the actor's) are created and committed on the key
      // store's own pool before the append, as for one command.
      await deps.appender.prepare([...new Set(events.flatMap((e) => command.serde.personalSubjects(e)))]);
      return deps.appender.appendMany(events, command.serde, { tx: t });
    },
    30_000,
  );
}

/**
 * The last of `appended` on each partition: all a read-your-writes wait needs (waitForProjection),
 * however many events a command appended. `into` keeps a running result across batches.
 */
export function lastPerPartition<E extends AnyEvent>(
  appended: Iterable<AppendedEvent<E>>,
  into: Map<string, AppendedEvent<E>> = new Map(),
): Map<string, AppendedEvent<E>> {
  for (const a of appended) {
    const key = `${a.topic}/${a.partition}`;
    const seen = into.get(key);
    if (!seen || BigInt(seen.offset) < BigInt(a.offset)) into.set(key, a);
  }
  return into;
}

/** The envelopes of one aggregate's new events, numbered from its version. */
function newEvents<E extends AnyEvent>(deps: CommandDeps, ctx: CommandContext, serde: Serde<E>, streamId: string, version: number, decided: NewEvent<E>[]): E[] {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const newId = deps.newId ?? randomUUID;
  const correlationId = ctx.correlationId ?? newId();
  return decided.map(
    (e, i) =>
      ({
        id: newId(),
        type: e.type,
        schemaVersion: serde.schemaVersion(e.type),
        aggregateId: streamId,
        sequence: version + i + 1,
        occurredAt: now,
        actor: ctx.actor,
        correlationId,
        causationId: ctx.causationId ?? null,
        payload: e.payload,
      }) as E,
  );
}

interface Head<S> {
  version: number;
  state: S;
}

/** Locks the aggregate's head row (FOR UPDATE), or returns null for a new aggregate. */
export async function lockStream<S>(tx: SqlTx, stream: StreamDefinition, id: string): Promise<Head<S> | null> {
  const type = stream.headType;
  const rows = await tx.$queryRaw<{ version: number; state: S; type: string }[]>`
    SELECT version, state, type FROM streams WHERE id = ${id}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) return null;
  if (row.type !== type) throw new Error(`stream ${id} is a ${row.type}, not a ${type}`);
  return { version: row.version, state: row.state };
}

/** Reads an aggregate's state, holding a share lock so it cannot change until commit. */
export async function readStreamShared<S>(tx: Tx, stream: StreamDefinition, id: string): Promise<S | null> {
  const rows = await tx.$queryRaw<{ state: S }[]>`
    SELECT state FROM streams WHERE id = ${id}::uuid AND type = ${stream.headType} FOR SHARE`;
  return rows[0]?.state ?? null;
}

/** A minted aggregate's first head: fails (streams_pkey) if the id has one already. */
function insertStreamHead<S extends { version: number }>(stream: StreamDefinition, id: string, state: S): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO streams (id, type, version, state, updated_at)
    VALUES (${id}::uuid, ${stream.headType}, ${state.version}, ${JSON.stringify(state)}::jsonb, now())`;
}

/**
 * PostgreSQL's unique violation on the heads' primary key, as node-postgres reports it (a command's
 * own transaction). Inside a caller's Prisma transaction the error is Prisma's and passes as it is.
 */
function isHeadTaken(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === "23505" && e.constraint === "streams_pkey";
}

function saveStreamHead<S extends { version: number }>(stream: StreamDefinition, id: string, state: S): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO streams (id, type, version, state, updated_at)
    VALUES (${id}::uuid, ${stream.headType}, ${state.version}, ${JSON.stringify(state)}::jsonb, now())
    ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, updated_at = now()`;
}
