/** lib/sql-tx.ts' transaction bounds, on the real PostgreSQL: the wait for a connection and the time limit. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, poolOf } from "@/lib/db";
import { ConnectionWaitExceeded, inSqlTransaction, SqlTransactionTimeout } from "@/lib/sql-tx";
import { createTestContext, type TestContext } from "../integration";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext("sqltx");
  await t.db.$executeRawUnsafe("CREATE TABLE sql_tx_probe (n int PRIMARY KEY)");
});
afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
