/**
 * Starting the application on top of its infrastructure: migrations, topics,
 * projector worker(s), the email and Slack notifiers and the Next.js console.
 * Shared by `npm start` and the end-to-end stage of `npm test`, so the tests
 * run what users run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrateDeploy } from "@/infra/prisma/migrate";
import { kafkaConfig, projectorMetricsPort } from "@/lib/config";
import { createKafka } from "@/lib/kafka/client";
import { ensureTopics } from "@/lib/kafka/topics";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Spawns a child whose output is prefixed with its name; resolves `exited` with its exit code. */
export function run(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { quiet?: boolean } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = (chunk: Buffer, out: NodeJS.WriteStream) => {
    if (options.quiet) return;
    for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on("data", (c: Buffer) => prefix(c, process.stdout));
  child.stderr?.on("data", (c: Buffer) => prefix(c, process.stderr));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.on("error", () => resolve(127));
  });
  return { name, child, exited };
}

/** Runs a command to completion; throws with its name on a non-zero exit. */
export async function runToEnd(name: string, command: string, args: string[], env: Record<string, string | undefined> = {}) {
  const code = await run(name, command, args, env).exited;
  if (code !== 0) throw new Error(`${name} failed (exit ${code})`);
}

export async function stopAll(processes: RunningProcess[], graceMs = 10_000) {
  await Promise.all(
    processes.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill("SIGTERM");
      const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

export interface AppOptions {
  env: Record<string, string>;
  port: number;
  projectors: number;
  build: boolean;
  log: (line: string) => void;
}

/** Migrates, creates topics, starts N projectors, the notifiers and `next start`; resolves once the console answers. */
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
    const topics = await ensureTopics(admin, config);
    log(`topics ready (${topics.join(", ")}) in ${Date.now() - t} ms`);
  } finally {
    await admin.disconnect();
  }
  if (options.build) {
    t = Date.now();
    await runToEnd("build", bin("next"), ["build"], env);
    log(`console built in ${Date.now() - t} ms`);
  }
  const processes: RunningProcess[] = [];
  // Each projector on this machine serves /metrics on a port of its own: base, base+1, … (0: none).
  const metricsPort = projectorMetricsPort({ ...process.env, ...env });
  for (let i = 0; i < options.projectors; i++) {
    const projectorEnv = { ...env, PROJECTOR_METRICS_PORT: String(metricsPort === 0 ? 0 : metricsPort + i) };
    processes.push(run(`projector-${i + 1}`, process.execPath, ["--import", "tsx", "workers/projector.ts"], projectorEnv));
  }
  // Own consumer groups: a slow SMTP server or webhook never holds up the read model.
  // Links in their messages point at this console unless CONSOLE_URL says otherwise.
  const notifierEnv = { CONSOLE_URL: process.env.CONSOLE_URL ?? `http://127.0.0.1:${options.port}`, ...env };
  for (const notifier of ["notifier-email", "notifier-slack"]) {
    processes.push(run(notifier, process.execPath, ["--import", "tsx", `workers/${notifier}.ts`], notifierEnv));
  }
  const console_ = run("console", bin("next"), ["start", "-H", "127.0.0.1", "-p", String(options.port)], env);
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
