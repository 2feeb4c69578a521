/**
 * `npm test`: typecheck, lint, unit, migrations-match-schema, integration and
 * end-to-end tests, on a PostgreSQL and a Kafka broker of its own (own ports,
 * data in .data/test, wiped first), so it never touches a running dev stack.
 * TEST_DATABASE_URL / TEST_KAFKA_BROKERS point it at existing servers instead.
 *
 * Every stage runs even when an earlier one failed (one run shows every
 * problem); the exit code is non-zero if any failed. Stages that do not depend
 * on each other run side by side, to use both cores of a small machine: the
 * static checks beside the servers' start and the unit tests; then, on the same servers, the
 * integration tests beside the end-to-end tests (each in databases, topics and
 * consumer groups of its own). Each process's lines carry its name ([tsc], [integration],
 * [playwright], ...), so interleaved output still reads.
 *   --only unit|integration|e2e|lifecycle|static   run one group of stages
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "@/infra/ports";
import { createDatabase, databaseUrl } from "@/infra/postgres";
import { assertMigrationsMatchSchema } from "@/infra/prisma/migrate";
import { startInfra, type Infra } from "./infra";
import { ROOT, run, runToEnd, startApp, stopAll } from "./stack";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const only = values.only;
const want = (group: string) => !only || only === group;
const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
const resultsDir = path.join(ROOT, "test-results");

interface Stage {
  name: string;
  ok: boolean;
  seconds: number;
  passed?: number;
  failed?: number;
  note?: string;
}
const stages: Stage[] = [];

async function stage(name: string, fn: () => Promise<Partial<Stage> | void>) {
  const started = Date.now();
  console.log(`\n━━ ${name}`);
  try {
    const extra = (await fn()) ?? {};
    stages.push({ name, ok: true, seconds: (Date.now() - started) / 1000, ...extra });
  } catch (error) {
    const e = error as Error & Partial<Stage>;
    console.error(`✗ ${name}: ${e.message}`);
    const seconds = (Date.now() - started) / 1000;
    stages.push({ name, ok: false, seconds, passed: e.passed, failed: e.failed, note: e.message.split("\n")[0] });
  }
}

/** Test counts from a vitest JSON report. */
function vitestCounts(file: string): Partial<Stage> {
  try {
    const report = JSON.parse(readFileSync(file, "utf8")) as { numPassedTests: number; numFailedTests: number };
    return { passed: report.numPassedTests, failed: report.numFailedTests };
  } catch {
    return {};
  }
}

async function vitest(project: string, env: Record<string, string> = {}) {
  const report = path.join(resultsDir, `vitest-${project}.json`);
  const code = await run(
    project,
    bin("vitest"),
    ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`],
    env,
  ).exited;
  const counts = vitestCounts(report);
  if (code !== 0) throw Object.assign(new Error(`vitest ${project} failed (exit ${code})`), counts);
  return counts;
}

// One key-encryption key for the run: the console, the workers and the tests share it (lib/privacy).
process.env.DATA_KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");

const totalStart = Date.now();
rmSync(resultsDir, { recursive: true, force: true });

if (want("static") || want("unit") || want("integration") || want("e2e") || want("lifecycle")) {
  await stage("prisma generate", () => runToEnd("generate", bin("prisma"), ["generate"]));
}
// The static checks keep one core busy (tsc, then eslint: each single-threaded, and side by side
// on 2 cores the two took longer than in turn). The servers start and the unit tests run on the
// other core meanwhile; the test tracks begin once all three are done.
const staticChecks = want("static")
  ? (async () => {
      // Next's route types first (what `next build` would check), so tsc checks them too and the
      // end-to-end stage's build need not type-check again (NEXT_SKIP_BUILD_TYPECHECK, next.config.js).
      await stage("typecheck", async () => {
        await runToEnd("typegen", bin("next"), ["typegen"]);
        await runToEnd("tsc", bin("tsc"), ["--noEmit"]);
      });
      await stage("lint", () => runToEnd("eslint", bin("eslint"), ["--max-warnings=0", "."]));
    })()
  : Promise.resolve();

let infra: Infra | undefined;
// The unit tests run while PostgreSQL and Kafka start (they need neither).
const unitTests = want("unit") ? stage("unit tests", () => vitest("unit")) : Promise.resolve();
if (want("integration") || want("e2e") || want("lifecycle")) {
  try {
    infra = await startInfra({
      dataDir: path.join(ROOT, ".data", "test"),
      fresh: true,
      databaseUrl: process.env.TEST_DATABASE_URL,
      databaseName: "postgres",
      postgresPort: await freePort(),
      brokers: process.env.TEST_KAFKA_BROKERS?.split(",").filter(Boolean),
      kafkaPort: await freePort(),
      kafkaControllerPort: await freePort(),
      log: (line) => console.log(`[infra] ${line}`),
    });
  } catch (error) {
    stages.push({ name: "start PostgreSQL and Kafka", ok: false, seconds: 0, note: (error as Error).message.split("\n")[0] });
    console.error(error);
  }
}

await unitTests;
await staticChecks;

if (infra) {
  const adminUrl = infra.databaseUrl;
  const env = { TEST_DATABASE_URL: adminUrl, KAFKA_BROKERS: infra.brokers.join(",") };
  // Two tracks on the same servers, side by side: neither waits for the other.
  const integrationTrack = async () => {
    if (want("integration")) await stage("integration tests", () => vitest("integration", env));
  };
  const consoleTrack = async () => {
    if (want("e2e")) await stage("end-to-end tests", () => endToEnd(adminUrl, infra!));
    // npm start as users run it (reusing the build the end-to-end stage made): Ctrl-C, an
    // unreachable checkout (test/lifecycle).
    if (want("lifecycle")) await stage("lifecycle tests", () => vitest("lifecycle", env));
    // The offline Prisma toolchain's checks need PostgreSQL alone. They close this track, so that
    // both tracks end together: in the integration track, it ran 100 s past this one on 2 cores.
    if (want("integration")) {
      await stage("migrations match schema", async () => {
        await createDatabase(adminUrl, "migration_check");
        await assertMigrationsMatchSchema(databaseUrl(adminUrl, "migration_check"));
      });
      await stage("Prisma toolchain tests", () => vitest("prisma", env));
    }
  };
  try {
    await Promise.all([integrationTrack(), consoleTrack()]);
  } finally {
    await infra.stop();
  }
}

async function endToEnd(adminUrl: string, infra: Infra): Promise<Partial<Stage>> {
  await createDatabase(adminUrl, "e2e");
  const port = await freePort();
  const appEnv = {
    DATABASE_URL: databaseUrl(adminUrl, "e2e"),
    KAFKA_BROKERS: infra.brokers.join(","),
    KAFKA_TOPIC_PREFIX: "e2e.",
    KAFKA_PARTITIONS: "8",
    PROJECTOR_GROUP_ID: "read-model-e2e",
    PROJECTOR_METRICS_PORT: String(await freePort()),
    // The first administrator, created at start; the specs sign in as them (e2e/auth.setup.ts).
    ADMIN_EMAIL: "e2e-admin@example.com",
    ADMIN_PASSWORD: `e2e-${randomUUID()}`,
    // The webhook journey delivers to a receiver on 127.0.0.1 (e2e/webhooks.spec.ts).
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
    WEBHOOKS_GROUP_ID: "webhooks-e2e",
    WEBHOOKS_METRICS_PORT: "0",
    // The typecheck stage already checked the types, Next's route types included.
    ...(want("static") ? { NEXT_SKIP_BUILD_TYPECHECK: "1" } : {}),
  };
  const app = await startApp({ env: appEnv, port, projectors: 1, build: true, log: (l) => console.log(`[e2e] ${l}`) });
  const report = path.join(resultsDir, "playwright.json");
  try {
    const code = await run("playwright", bin("playwright"), ["test"], {
      ...appEnv,
      BASE_URL: app.url,
      PLAYWRIGHT_JSON_OUTPUT_NAME: report,
    }).exited;
    const counts = playwrightCounts(report);
    if (code !== 0) throw Object.assign(new Error(`playwright failed (exit ${code})`), counts);
    return counts;
  } finally {
    await stopAll(app.processes);
  }
}

function playwrightCounts(file: string): Partial<Stage> {
  try {
    const report = JSON.parse(readFileSync(file, "utf8")) as { stats: { expected: number; unexpected: number; flaky: number } };
    return { passed: report.stats.expected + report.stats.flaky, failed: report.stats.unexpected };
  } catch {
    return {};
  }
}

console.log("\n━━ summary");
for (const s of stages) {
  const counts = s.passed !== undefined ? ` (${s.passed} passed, ${s.failed ?? 0} failed)` : "";
  console.log(`${s.ok ? "✓" : "✗"} ${s.name.padEnd(26)} ${s.seconds.toFixed(1).padStart(6)} s${counts}${s.note ? `  ${s.note}` : ""}`);
}
const passed = stages.reduce((n, s) => n + (s.passed ?? (s.ok ? 1 : 0)), 0);
const failed = stages.reduce((n, s) => n + (s.failed ?? (s.ok ? 0 : 1)), 0);
console.log(`total ${((Date.now() - totalStart) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(stages.every((s) => s.ok) ? 0 : 1);
