/**
 * `npm start`: the whole system on this machine, then the console's URL.
 *
 *   PostgreSQL  DATABASE_URL, or an embedded server (data in .data/postgres)
 *   Kafka       KAFKA_BROKERS, or a local KRaft broker (data in .data/kafka)
 *   then        migrations → topics → console build (unless unchanged) → projector worker(s),
 *               email and Slack notifiers → console (production build)
 *
 * Flags: --projectors N, --build (always build), --no-build (never build).
 *
 * Ctrl-C, SIGINT or SIGTERM stop every process this started, in order (workers and console,
 * then Kafka and PostgreSQL), within 15 s: each child runs in a process group of its own
 * (stack.ts), gets SIGTERM and, after its grace, SIGKILL. A second signal (a second Ctrl-C)
 * kills them all at once. Children started here stop by themselves if this process is
 * SIGKILLed (scripts/lifeline.ts), and so do Kafka and PostgreSQL (scripts/orphan-guard.ts);
 * a broker or server left running anyway is stopped by the next start.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { LOCAL_STACK, startInfra, type Infra } from "./infra";
import { ensureLocalKeyEncryptionKey } from "./local-kek";
import { ROOT, run, startApp, stopChildren } from "./stack";

// A closed terminal or pipe (`npm start | tee log` after Ctrl-C killed tee) makes every write fail
// with EPIPE. Unhandled, each failure is an uncaught exception whose one-line report fails again:
// an endless loop that starved the stop's timers (seen: npm start spinning after Ctrl-C).
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

const log = (line: string) => console.log(`[start] ${line}`);
const fail = (line: string) => console.error(`[start] ${line}`);

let values: { projectors: string; build: boolean; "no-build": boolean };
try {
  ({ values } = parseArgs({
    options: {
      projectors: { type: "string", default: process.env.PROJECTORS ?? "1" },
      build: { type: "boolean", default: false },
      "no-build": { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message} (flags: --projectors N, --build, --no-build)`);
  process.exit(2);
}
const projectors = Number(values.projectors);
if (!Number.isInteger(projectors) || projectors < 1 || projectors > 50) {
  fail(`--projectors must be a whole number from 1 to 50 (got "${values.projectors}")`);
  process.exit(2);
}
if (values.build && values["no-build"]) {
  fail("--build and --no-build contradict each other; pass one");
  process.exit(2);
}

/** The workers' own stop deadline is 8 s; the servers get what is left of 15 s. */
const APP_GRACE_MS = 9_000;
const INFRA_GRACE_MS = 3_000;
const HARD_DEADLINE_MS = 14_000;

let infra: Infra | undefined;
let infraStarting: Promise<Infra> | undefined;
let stopping: Promise<void> | undefined;
let firstSignalAt = 0;

/** Stops everything this started, in order, bounded; says so; exits. */
function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    log("stopping…");
    const hard = setTimeout(() => void forceStop("did not stop within 14 s"), HARD_DEADLINE_MS);
    await stopChildren(APP_GRACE_MS);
    // Still starting PostgreSQL/Kafka: let that finish (bounded by the hard deadline), then stop it.
    if (!infra && infraStarting) infra = await infraStarting.catch(() => undefined);
    await infra?.stop(INFRA_GRACE_MS);
    clearTimeout(hard);
    log("stopped");
    process.exit(code);
  })();
  return stopping;
}

/** A second signal, or the hard deadline: SIGKILL whatever is left, at once. */
async function forceStop(why: string): Promise<void> {
  log(`${why}: killing what is left`);
  await Promise.allSettled([stopChildren(0, { force: true }), infra?.kafka?.kill(), infra?.postgres?.stop(0)]);
  log("stopped (forced)");
  process.exit(130);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (!stopping) {
      firstSignalAt = Date.now();
      void shutdown(0);
    } else if (Date.now() - firstSignalAt > 1_000) {
      // Within 1 s it is the same Ctrl-C again: the terminal sends it to npm and to us, and npm forwards it.
      void forceStop(`${signal} again`);
    }
  });
}
// Never a stack trace: one line, then the same orderly stop.
process.on("uncaughtException", (error) => {
  fail(`unexpected error: ${error.message.split("\n")[0]}`);
  void shutdown(1);
});
process.on("unhandledRejection", (reason) => {
  fail(`unexpected error: ${(reason instanceof Error ? reason.message : String(reason)).split("\n")[0]}`);
  void shutdown(1);
});

const started = Date.now();
try {
  const dataDir = process.env.LOCAL_DATA_DIR ? path.resolve(process.env.LOCAL_DATA_DIR) : path.join(ROOT, ".data");
  // Every child (console, projectors, notifiers) inherits it through the environment.
  ensureLocalKeyEncryptionKey(dataDir, log);
  infraStarting = startInfra({
    dataDir,
    databaseUrl: process.env.DATABASE_URL,
    brokers: process.env.KAFKA_BROKERS?.split(",").filter(Boolean),
    ...LOCAL_STACK,
    log,
  });
  infra = await infraStarting;
  if (stopping) await stopping;
  const app = await startApp({
    env: { DATABASE_URL: infra.databaseUrl, KAFKA_BROKERS: infra.brokers.join(",") },
    port: Number(process.env.PORT ?? 3000),
    projectors,
    build: !values["no-build"],
    forceBuild: values.build,
    log,
  });
  if (stopping) await stopping;
  // Everything runs detached: should this process be SIGKILLed, the guard stops our own Kafka and
  // PostgreSQL, and kills what is left of the workers' and the console's groups 8 s later (they
  // stop by themselves first, scripts/lifeline.ts, unless their event loop is blocked).
  const guarded = [
    ...(infra.kafka ? [`${infra.kafka.pid}:SIGTERM`] : []),
    ...(infra.postgres ? [`${infra.postgres.pid}:SIGINT`] : []),
    ...app.processes.map((p) => `${p.child.pid}:none`),
  ];
  run("orphan-guard", process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "orphan-guard.ts"), ...guarded], {});
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`\n  Admin console: ${app.url}\n  (Ctrl-C stops everything)\n`);
  const firstExit = await Promise.race(app.processes.map(async (p) => ({ name: p.name, code: await p.exited })));
  if (!stopping) {
    fail(`${firstExit.name} exited with code ${firstExit.code}; stopping the rest`);
    await shutdown(1);
  }
} catch (error) {
  if (!stopping) {
    fail((error as Error).message.split("\n")[0]!);
    await shutdown(1);
  }
}
