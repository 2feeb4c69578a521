import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase, databaseUrl, startPostgres, type PostgresHandle } from "./postgres";
import { freePort } from "./ports";

const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), "embedded-pg-"));
fs.chmodSync(dataRoot, 0o755); // as root, the server runs as 'postgres' and must reach dataDir
// Parents that do not exist yet, as in a fresh clone (`.data/test/postgres`): they must be
// created reachable by the postgres user (a recursive mkdir with mode 0700 made them 0700 too).
const dataDir = path.join(dataRoot, "checkout", ".data", "test", "postgres");
let running: PostgresHandle | undefined;

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dataRoot, { recursive: true, force: true });
}, 60_000);

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL (infra/postgres.ts)", () => {
  it("initialises on first start, persists data, reuses it on the next start", async () => {
    const port = await freePort();
    running = await startPostgres({ dataDir, port });
    expect(running.url).toBe(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
    expect(await query(running.url, "select 1 as one")).toEqual([{ one: 1 }]);

    await createDatabase(running.url, "app_test");
    await createDatabase(running.url, "app_test"); // idempotent
    const appUrl = databaseUrl(running.url, "app_test");
    await query(appUrl, "create table marker (id int primary key); insert into marker values (42)");
    await running.stop();
    running = undefined;

    // The server is really gone: the port is free again.
    await expect(
      new Promise((resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port }).once("connect", () => {
          s.destroy();
          reject(new Error("still listening"));
        });
        s.once("error", resolve);
      }),
    ).resolves.toBeDefined();

    const port2 = await freePort();
    running = await startPostgres({ dataDir, port: port2 });
    expect(await query(databaseUrl(running.url, "app_test"), "select id from marker")).toEqual([{ id: 42 }]);
    await running.stop();
    running = undefined;
  }, 120_000);

  it("fails clearly when the port is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startPostgres({ dataDir, port })).rejects.toThrow(/already in use/);
    } finally {
      blocker.close();
    }
  });
});
