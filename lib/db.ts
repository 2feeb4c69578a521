// The app's Prisma client. Nothing here connects or reads DATABASE_URL at
// import time: `next build` imports this module without a database.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "@/generated/prisma/client";

export type Db = PrismaClient;

/**
 * A client of its own for `url` (tests, workers); call `disconnect` when done.
 * `poolSize` caps its connections (node-postgres' default is 10).
 */
export function createDb(url: string, options: { poolSize?: number } = {}): Db {
  // The pool is made here and handed to Prisma, so a command's transaction can run raw on the same
  // connections (poolOf, lib/command/execute.ts) instead of opening more. $disconnect ends it.
  const pool = new pg.Pool({ connectionString: url, ...(options.poolSize ? { max: options.poolSize } : {}) });
  // An idle connection PostgreSQL ends (a restart, pg_terminate_backend) is dropped from the pool and
  // the next query opens another. Prisma listens for that only once it has connected itself: a pool
  // used only by raw command transactions so far had no listener, and node threw the error, uncaught.
  pool.on("error", () => {});
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // Prisma ends the pool on $disconnect only if it connected; a process that ran only commands
  // (raw, on this pool) kept its connections open. End it either way.
  const prismaDisconnect = db.$disconnect.bind(db);
  db.$disconnect = async () => {
    await prismaDisconnect();
    if (!pool.ended) await pool.end();
  };
  urls.set(db, url);
  pools.set(db, pool);
  return db;
}

const urls = new WeakMap<Db, string>();
const pools = new WeakMap<Db, pg.Pool>();

/**
 * The node-postgres pool under a client made by createDb, while it is open: the same connections
 * Prisma uses. Undefined once `$disconnect` ended it (Prisma then reconnects on a pool of its own).
 */
export function poolOf(db: Db): pg.Pool | undefined {
  const pool = pools.get(db);
  return pool && !pool.ended ? pool : undefined;
}

/**
 * The connection string a client was created with: for what Prisma cannot do, such as the
 * rebuild's `COPY … FROM STDIN` (lib/projection/rebuild/bulk-load.ts), on a connection of its own.
 */
export function databaseUrlOf(db: Db): string | undefined {
  return urls.get(db);
}

// Kept on globalThis so Next's hot reload, which re-evaluates this module,
// reuses the pool instead of opening a new one per edit.
const globalForDb = globalThis as typeof globalThis & { __adminConsoleDb?: Db };

/** The shared client for DATABASE_URL, created on first use. */
export function getDb(): Db {
  if (!globalForDb.__adminConsoleDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set; it is needed to reach the read-model database.");
    globalForDb.__adminConsoleDb = createDb(url);
  }
  return globalForDb.__adminConsoleDb;
}

/**
 * Close `db`'s pool, or with no argument the shared client's (which the next
 * getDb() then recreates).
 */
export async function disconnect(db?: Db): Promise<void> {
  if (db) return db.$disconnect();
  const shared = globalForDb.__adminConsoleDb;
  globalForDb.__adminConsoleDb = undefined;
  await shared?.$disconnect();
}
