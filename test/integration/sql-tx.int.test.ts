/** lib/sql-tx.ts' transaction bounds, on the real PostgreSQL: the wait for a connection and the time limit. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@/generated/prisma/client";
import { createDb, poolOf } from "@/lib/db";
import { ConnectionWaitExceeded, inSqlTransaction, SqlTransactionTimeout, type BatchTx } from "@/lib/sql-tx";
import { countedRoundTrips, createTestContext, type TestContext } from "../integration";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext("sqltx");
  await t.db.$executeRawUnsafe("CREATE TABLE sql_tx_probe (n int PRIMARY KEY)");
});
afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("createDb", () => {
  it("used only by raw transactions (a command), drops an idle connection PostgreSQL ends instead of crashing the process, and $disconnect ends its pool", async () => {
    const db = createDb(t.env.DATABASE_URL!, { poolSize: 2 });
    const pool = poolOf(db)!;
    // No Prisma query: Prisma adds its listener to the pool only when it first connects.
    const pid = await inSqlTransaction(pool, async (tx) => (await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid);
    expect(pool.idleCount).toBe(1);
    // Without an 'error' listener on the pool, node throws the idle client's error: uncaught, the process dies.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener("uncaughtException", onUncaught);
    try {
      // A PostgreSQL restart, an admin's pg_terminate_backend, DROP DATABASE … WITH (FORCE).
      await t.db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)`;
      await expect.poll(() => pool.idleCount, { timeout: 5_000 }).toBe(0);
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(await inSqlTransaction(pool, (tx) => tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    await db.$disconnect();
    expect(pool.ended).toBe(true);
    expect(poolOf(db)).toBeUndefined();
  });
});

describe("inSqlTransaction", () => {
  it("rolls back at its time limit, refuses every later statement, and gives its connection back at once", async () => {
    const db = createDb(t.env.DATABASE_URL!, { poolSize: 1 });
    const pool = poolOf(db)!;
    try {
      let late: Promise<number> | undefined;
      const outcome = inSqlTransaction(
        pool,
        async (tx) => {
          await tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (1)`;
          await sleep(800); // e.g. a broker that does not answer
          late = tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (2)`;
          await late;
        },
        { timeoutMs: 300 },
      );
      // The only connection is free again long before the transaction's own code wakes up.
      await sleep(500);
      expect(await db.$queryRaw<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      await expect(outcome).rejects.toBeInstanceOf(SqlTransactionTimeout);
      await expect(late).rejects.toThrow("ran longer than 300 ms and was rolled back; nothing was saved");
      expect(await t.db.$queryRaw<{ n: number }[]>`SELECT n FROM sql_tx_probe`).toEqual([]);
      expect(pool.totalCount).toBe(1);
      expect(pool.idleCount).toBe(1);
    } finally {
      await db.$disconnect();
    }
  });

  it("commits what finished within its time limit", async () => {
    const pool = poolOf(t.db)!;
    await inSqlTransaction(pool, (tx) => tx.$executeRaw`INSERT INTO sql_tx_probe (n) VALUES (3)`, { timeoutMs: 5_000 });
    expect(await t.db.$queryRaw<{ n: number }[]>`SELECT n FROM sql_tx_probe`).toEqual([{ n: 3 }]);
  });

  it("copyRows writes the same values whether it sends a few rows as an INSERT or many as a COPY", async () => {
    for (const table of ["copy_probe_insert", "copy_probe_copy"]) {
      await t.db.$executeRawUnsafe(`CREATE TABLE ${table} (k int PRIMARY KEY, s text, at timestamptz, ids uuid[], doc jsonb, flag boolean, big bigint)`);
    }
    const row = (k: number) => [
      k,
      k % 3 === 0 ? null : `tab\there, line\nbreak, back\\slash, "quoted" ✓ ${k}`,
      new Date(Date.UTC(2026, 11, 2, 19, 0, k)).toISOString(),
      [`00000000-0000-4000-8000-${String(k).padStart(12, "0")}`],
      { name: `O'Brien\t${k}`, nested: { n: k, list: [1, "two", null] } },
      k % 2 === 0,
      9_007_199_254_740_993n + BigInt(k),
    ];
    const columns = ["k", "s", "at", "ids", "doc", "flag", "big"];
    const pool = poolOf(t.db)!;
    await inSqlTransaction(pool, (tx) => tx.copyRows("copy_probe_insert", columns, [1, 2, 3].map(row)));
    await inSqlTransaction(pool, (tx) => tx.copyRows("copy_probe_copy", columns, Array.from({ length: 40 }, (_, i) => row(i + 1))));
    const read = (table: string) =>
      t.db.$queryRawUnsafe<{ k: number; s: string | null; at: Date; ids: string[]; doc: unknown; flag: boolean; big: bigint }[]>(
        `SELECT k, s, at, ids::text[] AS ids, doc, flag, big FROM ${table} WHERE k <= 3 ORDER BY k`,
      );
    const inserted = await read("copy_probe_insert");
    expect(inserted).toEqual(await read("copy_probe_copy"));
    expect(inserted[0]).toMatchObject({ s: `tab\there, line\nbreak, back\\slash, "quoted" ✓ 1`, flag: false, big: 9_007_199_254_740_994n });
    expect(inserted[0]!.doc).toEqual({ name: "O'Brien\t1", nested: { n: 1, list: [1, "two", null] } });
    expect(inserted[0]!.at).toEqual(new Date(Date.UTC(2026, 11, 2, 19, 0, 1)));
    expect(inserted[2]!.s).toBeNull();
  });

  it("prepared: runs each statement as a named prepared statement of its connection, at most 200 a connection, found again after its table is replaced", async () => {
    const db = createDb(t.env.DATABASE_URL!, { poolSize: 1 });
    const pool = poolOf(db)!;
    const prepared = async () =>
      (await db.$queryRaw<{ statement: string }[]>`SELECT statement FROM pg_prepared_statements ORDER BY statement`).map((r) => r.statement);
    try {
      await db.$executeRawUnsafe("CREATE TABLE prepared_probe (v int)");
      await db.$executeRawUnsafe("INSERT INTO prepared_probe VALUES (1)");
      const read = (n: number) => inSqlTransaction(pool, (tx) => tx.$queryRaw<{ v: number }[]>`SELECT v + ${n}::int AS v FROM prepared_probe`, { prepared: true });
      expect(await read(10)).toEqual([{ v: 11 }]);
      expect(await read(20)).toEqual([{ v: 21 }]);
      // One statement for both runs, on the pool's one connection (the one Prisma's queries run on too).
      expect(await prepared()).toEqual(["SELECT v + $1::int AS v FROM prepared_probe"]);
      // What a rebuild's switch does to the live tables: the statement reads the new table.
      await db.$executeRawUnsafe("ALTER TABLE prepared_probe RENAME TO prepared_probe_old");
      await db.$executeRawUnsafe("CREATE TABLE prepared_probe (v int)");
      await db.$executeRawUnsafe("INSERT INTO prepared_probe VALUES (5)");
      expect(await read(30)).toEqual([{ v: 35 }]);
      // Texts built from input: the connection keeps 200 of them, and the rest still run (unnamed).
      const many = await inSqlTransaction(
        pool,
        async (tx) => {
          let sum = 0;
          for (let i = 0; i < 250; i++) sum += (await tx.$queryRaw<{ v: number }[]>(Prisma.sql([`SELECT ${i}::int AS v`]))).at(0)!.v;
          return sum;
        },
        { prepared: true },
      );
      expect(many).toBe((249 * 250) / 2);
      expect((await prepared()).length).toBe(200);
      // Without the option, nothing more is prepared.
      await inSqlTransaction(pool, (tx) => tx.$queryRaw`SELECT 'unprepared' AS v`);
      expect((await prepared()).length).toBe(200);
    } finally {
      await db.$disconnect();
    }
  });

  it("gives up waiting for a connection after connectionWaitMs, and returns the one that comes later", async () => {
    const db = createDb(t.env.DATABASE_URL!, { poolSize: 1 });
    const pool = poolOf(db)!;
    try {
      const held = await pool.connect();
      const started = Date.now();
      await expect(inSqlTransaction(pool, async () => 1, { connectionWaitMs: 300 })).rejects.toBeInstanceOf(ConnectionWaitExceeded);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      held.release();
      await sleep(50);
      expect(pool.idleCount).toBe(1);
      expect(await inSqlTransaction(pool, async (tx) => tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    } finally {
      await db.$disconnect();
    }
  });
});

describe("inSqlTransaction's round trips", () => {
  const counted = () => countedRoundTrips(t.env.DATABASE_URL!);

  it("sends BEGIN with the first statement, and a deferred statement with the next one or with the COMMIT", async () => {
    await t.db.$executeRawUnsafe("CREATE TABLE pipeline_probe (n int PRIMARY KEY, note text)");
    const { db, pool, sent } = counted();
    try {
      const seen = await inSqlTransaction(
        pool,
        async (tx) => {
          await tx.$executeRaw`INSERT INTO pipeline_probe (n, note) VALUES (1, ${"first"})`;
          tx.defer`INSERT INTO pipeline_probe (n, note) VALUES (2, ${"it's deferred"})`;
          // The deferred insert runs before this statement, in its round trip: it sees it.
          const rows = await tx.$queryRaw<{ count: bigint }[]>`SELECT count(*) FROM pipeline_probe`;
          tx.defer`INSERT INTO pipeline_probe (n, note) VALUES (3, ${"with the commit"})`;
          return rows[0]!.count;
        },
        { prepared: true },
      );
      expect(seen).toBe(2n);
      expect(sent).toEqual(["BEGIN+INSERT", "INSERT+SELECT", "INSERT+COMMIT"]);
      expect(await t.db.$queryRaw`SELECT n, note FROM pipeline_probe ORDER BY n`).toEqual([
        { n: 1, note: "first" },
        { n: 2, note: "it's deferred" },
        { n: 3, note: "with the commit" },
      ]);
      // flush sends what is queued at once; a transaction that ran no statement sends nothing at all.
      sent.length = 0;
      await inSqlTransaction(pool, async (tx) => {
        tx.defer`UPDATE pipeline_probe SET note = 'flushed' WHERE n = 1`;
        await tx.flush();
        expect(sent).toEqual(["BEGIN+UPDATE"]);
        await tx.flush();
      });
      expect(sent).toEqual(["BEGIN+UPDATE", "COMMIT"]);
      sent.length = 0;
      expect(await inSqlTransaction(pool, async () => "nothing to do")).toBe("nothing to do");
      expect(sent).toEqual([]);
    } finally {
      await db.$disconnect();
    }
  });

  it("a deferred statement that fails fails the statement it rode with, or the commit, and nothing of the transaction is kept", async () => {
    await t.db.$executeRawUnsafe("CREATE TABLE pipeline_fail_probe (n int PRIMARY KEY)");
    await t.db.$executeRawUnsafe("INSERT INTO pipeline_fail_probe VALUES (100)");
    const { db, pool, sent } = counted();
    const rows = () => t.db.$queryRaw<{ n: number }[]>`SELECT n FROM pipeline_fail_probe ORDER BY n`;
    try {
      const inPrepared = (fn: (tx: BatchTx) => Promise<unknown>) => inSqlTransaction(pool, fn, { prepared: true });
      let after: unknown = "not run";
      await expect(
        inPrepared(async (tx) => {
          await tx.$executeRaw`INSERT INTO pipeline_fail_probe VALUES (1)`;
          tx.defer`INSERT INTO pipeline_fail_probe VALUES (100)`;
          after = await tx.$queryRaw`SELECT 'after' AS v`;
        }),
      ).rejects.toMatchObject({ code: "23505", constraint: "pipeline_fail_probe_pkey" });
      expect(after).toBe("not run");
      expect(await rows()).toEqual([{ n: 100 }]);
      await expect(
        inPrepared(async (tx) => {
          await tx.$executeRaw`INSERT INTO pipeline_fail_probe VALUES (2)`;
          tx.defer`INSERT INTO pipeline_fail_probe VALUES (100)`;
        }),
      ).rejects.toMatchObject({ code: "23505" });
      expect(await rows()).toEqual([{ n: 100 }]);
      // The first statement fails with BEGIN: rolled back too, and the connection goes on.
      await expect(inPrepared((tx) => tx.$executeRaw`INSERT INTO pipeline_fail_probe VALUES (100)`)).rejects.toMatchObject({ code: "23505" });
      // The one connection is still usable, and the statements prepared before each failure are
      // known to it: run again, they are not parsed a second time (that would fail: "already exists").
      sent.length = 0;
      await inPrepared(async (tx) => {
        await tx.$executeRaw`INSERT INTO pipeline_fail_probe VALUES (1)`;
        tx.defer`INSERT INTO pipeline_fail_probe VALUES (2)`;
        expect(await tx.$queryRaw`SELECT 'after' AS v`).toEqual([{ v: "after" }]);
      });
      expect(sent).toEqual(["BEGIN+INSERT", "INSERT+SELECT", "COMMIT"]);
      expect(await rows()).toEqual([{ n: 1 }, { n: 2 }, { n: 100 }]);
      // A value node-postgres cannot send fails before anything is written, and the connection goes on.
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(
        inSqlTransaction(pool, async (tx) => {
          tx.defer`INSERT INTO pipeline_fail_probe VALUES (3)`;
          await tx.$executeRaw`SELECT ${circular}::jsonb`;
        }),
      ).rejects.toThrow(/circular/i);
      expect(await inSqlTransaction(pool, (tx) => tx.$queryRaw`SELECT count(*)::int AS n FROM pipeline_fail_probe`)).toEqual([{ n: 3 }]);
    } finally {
      await db.$disconnect();
    }
  });
});
