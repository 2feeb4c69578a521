/**
 * `npm start`: the whole system on this machine, then the console's URL.
 *
 *   PostgreSQL  DATABASE_URL, or an embedded server (data in .data/postgres)
 *   Kafka       KAFKA_BROKERS, or a local KRaft broker (data in .data/kafka)
 *   then        migrations → topics → projector worker(s), email and Slack notifiers → console (production build)
 *
 * Ctrl-C stops every process this started. Flags: --projectors N, --no-build.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { LOCAL_STACK, startInfra } from "./infra";
import { ROOT, startApp, stopAll, type RunningProcess } from "./stack";

const { values } = parseArgs({
  options: {
    projectors: { type: "string", default: process.env.PROJECTORS ?? "1" },
    "no-build": { type: "boolean", default: false },
  },
});
const projectors = Number(values.projectors);
if (!Number.isInteger(projectors) || projectors < 1 || projectors > 50) {
  console.error(`--projectors must be a whole number from 1 to 50 (got "${values.projectors}")`);
  process.exit(2);
}

const log = (line: string) => console.log(`[start] ${line}`);
const started = Date.now();
const infra = await startInfra({
  dataDir: path.join(ROOT, ".data"),
  databaseUrl: process.env.DATABASE_URL,
  brokers: process.env.KAFKA_BROKERS?.split(",").filter(Boolean),
  ...LOCAL_STACK,
  log,
});

let processes: RunningProcess[] = [];
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log("stopping…");
  await stopAll(processes);
  await infra.stop();
  log("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  const app = await startApp({
    env: { DATABASE_URL: infra.databaseUrl, KAFKA_BROKERS: infra.brokers.join(",") },
    port: Number(process.env.PORT ?? 3000),
    projectors,
    build: !values["no-build"],
    log,
  });
  processes = app.processes;
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`\n  Admin console: ${app.url}\n  (Ctrl-C stops everything)\n`);
  const firstExit = await Promise.race(processes.map(async (p) => ({ name: p.name, code: await p.exited })));
  if (!stopping) {
    log(`${firstExit.name} exited with code ${firstExit.code}; stopping the rest`);
    await shutdown(1);
  }
} catch (error) {
  console.error(`[start] ${(error as Error).message}`);
  await shutdown(1);
}
