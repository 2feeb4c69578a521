/**
 * Starting the application on top of its infrastructure: migrations, topics,
 * projector worker(s), the email and Slack notifiers, the webhooks worker and the Next.js console.
 * Shared by `npm start` and the end-to-end stage of `npm test`, so the tests
 * run what users run.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrateDeploy } from "@/infra/prisma/migrate";
import { kafkaConfig, projectorMetricsPort } from "@/lib/config";
import { createKafka } from "@/lib/kafka/client";
import { ensureTopics } from "@/lib/kafka/topics";
import { app } from "@/modules";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** `node --import tsx --import scripts/lifeline.ts`: TypeScript, and stop when the parent is gone. */
export const nodeArgs = ["--import", "tsx", "--import", path.join(ROOT, "scripts", "lifeline.ts")];

/**
 * Spawns a child whose output is prefixed with its name; resolves `exited` with its exit code.
 * The child runs detached, as the leader of a process group of its own, so that stopAll can end
 * whatever it spawned in turn (`next start`'s children) and a terminal's Ctrl-C reaches only
 * us: we stop the children in order (workers before the servers they use). Node children stop
 * by themselves if we die first (LIFELINE_PARENT_PID, scripts/lifeline.ts).
 */
export function run(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { quiet?: boolean } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", LIFELINE_PARENT_PID: String(process.pid), ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  live.add(child);
  installExitHook();
  const prefix = (chunk: Buffer, out: NodeJS.WriteStream) => {
    if (options.quiet) return;
    for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", (c: Buffer) => prefix(c, process.stdout));
  child.stderr?.on("data", (c: Buffer) => prefix(c, process.stderr));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? 128 : null));
    });
    child.on("error", () => {
      live.delete(child);
      resolve(127);
    });
  });
  return { name, child, exited };
}

/** Signals a child's whole process group (it leads one: `detached`); false when it is gone. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when this process ends without stopAll (an uncaught error): no orphans.
  process.once("exit", () => {
    for (const child of live) signalGroup(child, "SIGKILL");
  });
}

/** stopAll over every child `run` started that is still running (npm start's shutdown). */
export function stopChildren(graceMs = 10_000, options: { force?: boolean } = {}): Promise<void> {
  return stopAll([...live].map((child) => ({ name: "", child, exited: exitedOf(child) })), graceMs, options);
}

function exitedOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Runs a command to completion; throws with its name on a non-zero exit. */
export async function runToEnd(name: string, command: string, args: string[], env: Record<string, string | undefined> = {}) {
  const code = await run(name, command, args, env).exited;
  if (code !== 0) throw new Error(`${name} failed (exit ${code})`);
}

/**
 * SIGTERM to each child's process group; SIGKILL to the group after `graceMs` (default 10 s:
 * the workers' own deadline is 10 s, and with the servers' stop this stays inside npm start's
 * 15 s). `force` kills at once. Also kills what a child left behind in its group after it exited.
 */
export async function stopAll(processes: RunningProcess[], graceMs = 10_000, options: { force?: boolean } = {}) {
  await Promise.all(
    processes.map(async (p) => {
      const running = p.child.exitCode === null && p.child.signalCode === null;
      if (running) {
        signalGroup(p.child, options.force ? "SIGKILL" : "SIGTERM");
        const timer = setTimeout(() => signalGroup(p.child, "SIGKILL"), graceMs);
        await p.exited;
        clearTimeout(timer);
      }
      signalGroup(p.child, "SIGKILL"); // stragglers of the group, if any
    }),
  );
}

export interface AppOptions {
  env: Record<string, string>;
  port: number;
  projectors: number;
  /** Build the console unless the last build is of the same sources (see buildConsole). */
  build: boolean;
  /** Build even when the last build is of the same sources. */
  forceBuild?: boolean;
  log: (line: string) => void;
}

/** Migrates, creates topics, starts N projectors, the notifiers, the webhooks worker and `next start`; resolves once the console answers. */
export async function startApp(options: AppOptions): Promise<{ url: string; processes: RunningProcess[] }> {
  const { env, log } = options;
  let t = Date.now();
  await migrateDeploy(env.DATABASE_URL!);
  log(`migrations applied in ${Date.now() - t} ms`);
  t = Date.now();
  const config = kafkaConfig({ ...process.env, ...env });
  const admin = createKafka(config, "setup").admin();
  await admin.connect();
  try {
    const topics = await ensureTopics(admin, config, app.streams);
    log(`topics ready (${topics.join(", ")}) in ${Date.now() - t} ms`);
  } finally {
    await admin.disconnect();
  }
  if (options.build) await buildConsole(env, log, options.forceBuild ?? false);
  const processes: RunningProcess[] = [];
  // Each projector on this machine serves /metrics on a port of its own: base, base+1, … (0: none).
  const metricsPort = projectorMetricsPort({ ...process.env, ...env });
  for (let i = 0; i < options.projectors; i++) {
    const projectorEnv = { ...env, PROJECTOR_METRICS_PORT: String(metricsPort === 0 ? 0 : metricsPort + i) };
    processes.push(run(`projector-${i + 1}`, process.execPath, [...nodeArgs, "workers/projector.ts"], projectorEnv));
  }
  // Own consumer groups: a slow SMTP server or webhook never holds up the read model.
  // Links in their messages point at this console unless CONSOLE_URL says otherwise.
  const notifierEnv = { CONSOLE_URL: process.env.CONSOLE_URL ?? `http://127.0.0.1:${options.port}`, ...env };
  for (const notifier of ["notifier-email", "notifier-slack"]) {
    processes.push(run(notifier, process.execPath, [...nodeArgs, `workers/${notifier}.ts`], notifierEnv));
  }
  // One dispatcher group for every webhook subscription (README, Webhooks).
  processes.push(run("webhooks", process.execPath, [...nodeArgs, "workers/webhooks.ts"], env));
  const nextCli = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const console_ = run("console", process.execPath, [...nodeArgs, nextCli, "start", "-H", "127.0.0.1", "-p", String(options.port)], env);
  processes.push(console_);
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitForHealth(`${url}/api/health`, processes);
  } catch (error) {
    await stopAll(processes);
    throw error;
  }
  return { url, processes };
}

const BUILD_STAMP = path.join(ROOT, ".next", "source-hash");

/**
 * What a production build depends on: every file git tracks or would track (sources, the
 * lockfile, configs), less those the console never reads (tests, docs, scripts, workers), plus
 * the NEXT_PUBLIC_* variables inlined at build time.
 */
export function consoleSourceHash(): string {
  const unrelated = /^(docs|e2e|test|drills|bench|scripts|workers|infra)\/|\.md$|\.test\.tsx?$|^(playwright|vitest)\.config\./;
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && !unrelated.test(f))
    .sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    try {
      hash.update(readFileSync(path.join(ROOT, file)));
    } catch {
      hash.update("(deleted)"); // tracked but deleted in the work tree
    }
  }
  for (const [k, v] of Object.entries(process.env).sort()) if (k.startsWith("NEXT_PUBLIC_")) hash.update(`${k}=${v}\0`);
  return hash.digest("hex");
}

/** `next build`, unless .next holds a build of the same sources (or `force`). */
export async function buildConsole(env: Record<string, string>, log: (line: string) => void, force: boolean) {
  let hash: string | undefined;
  try {
    hash = consoleSourceHash();
  } catch (error) {
    log(`cannot tell whether the sources changed (${(error as Error).message.split("\n")[0]}): building`);
  }
  const last = existsSync(path.join(ROOT, ".next", "BUILD_ID")) && existsSync(BUILD_STAMP) ? readFileSync(BUILD_STAMP, "utf8").trim() : "";
  if (!force && hash && hash === last) {
    log("console build reused: nothing it is built from changed since the last build (--build forces one)");
    return;
  }
  const t = Date.now();
  rmSync(BUILD_STAMP, { force: true }); // a failed build must not pass for the last good one
  await runToEnd("build", bin("next"), ["build"], env);
  if (hash) writeFileSync(BUILD_STAMP, `${hash}\n`);
  log(`console built in ${Date.now() - t} ms`);
}

async function waitForHealth(url: string, processes: RunningProcess[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = processes.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited (code ${dead.child.exitCode}) during start-up`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
