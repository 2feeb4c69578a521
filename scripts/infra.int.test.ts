import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "@/infra/ports";
import { startInfra, type Infra } from "./infra";

// A checkout under a home the `postgres` user cannot enter (a 0700 /root), as root: the embedded
// server's data cannot live in `.data/postgres` itself and goes under the temp dir instead.
const home = fs.mkdtempSync(path.join(os.tmpdir(), "infra-home-")); // 0700, like /root
const dataDir = path.join(home, "checkout", ".data");
const elsewhere = new Set<string>();
let running: Infra | undefined;

afterAll(async () => {
  await running?.stop();
  fs.rmSync(home, { recursive: true, force: true });
  for (const dir of elsewhere) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function start(): Promise<Infra> {
  const log: string[] = [];
  running = await startInfra({
    dataDir,
    databaseName: "app",
    postgresPort: await freePort(),
    brokers: ["127.0.0.1:1"], // Kafka is not what this test is about: given, never started
    kafkaPort: 0,
    kafkaControllerPort: 0,
    log: (line) => log.push(line),
  });
  const moved = log.map((line) => /keeping its data in (\S+)/.exec(line)?.[1]).find(Boolean);
  if (moved) elsewhere.add(moved);
  return running;
}

async function stop(): Promise<void> {
  await running?.stop();
  running = undefined;
}

async function query(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const markerTables = (url: string) => query(url, "select tablename from pg_tables where tablename = 'marker'");

describe.runIf(process.getuid?.() === 0)("the embedded PostgreSQL's data when it cannot live in .data (as root)", () => {
  it("belongs to this .data: kept across restarts, gone with .data, never picked up by a new clone at the same path", async () => {
    const first = await start();
    await query(first.databaseUrl, "create table marker (id int)");
    await stop();

    // A restart of the same checkout finds its database again.
    const again = await start();
    expect(await markerTables(again.databaseUrl)).toHaveLength(1);
    await stop();

    // The checkout is deleted and cloned again at the same path: its .data (and with it the
    // key-encryption key in .data/keys) is new, so its database must be new too. Reusing the old
    // one made every encrypted row unreadable ("tampered ciphertext, wrong key" at sign-in).
    fs.rmSync(path.join(home, "checkout"), { recursive: true, force: true });
    const reclone = await start();
    expect(await markerTables(reclone.databaseUrl)).toEqual([]);
    await stop();
    expect(elsewhere.size).toBe(2);
  }, 120_000);
});
