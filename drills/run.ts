/**
 * `npm run drills`: fault drills against real processes (see drills/DRILLS.md).
 *
 *   npm run drills                     all six at the default size
 *   npm run drills -- --only 1         one drill (or --only 2,5)
 *   npm run drills -- --full           the sizes (200k events, ...)
 *   npm run drills -- --events 50000 --kills 10 --seed 7
 *
 * Everything it needs is started here, on 127.0.0.1, with data under
 * .data/drills (wiped first), and stopped at the end, whatever happens. Exits
 * non-zero if any drill fails; a hard time limit stops a hung run.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectorSigkillDrill } from "./d1-projector-sigkill";
import { brokerRestartDrill } from "./d2-broker-restart";
import { clusterBrokerKillDrill } from "./d3-cluster-broker-kill";
import { postgresRestartDrill } from "./d4-postgres-restart";
import { malformedInputDrill } from "./d5-malformed";
import { racesDrill } from "./d6-races";
import type { DrillEnv, DrillOptions } from "./lib/context";
import { DRILLS_DIR, freshDrillsDir, KafkaCluster, Postgres } from "./lib/infra";
import { killAllProjectors } from "./lib/projector";
import { Report, rng, say, within } from "./lib/util";

const DRILLS: Array<{ n: number; title: string; run: (env: DrillEnv) => Promise<Report>; limitMs: (o: DrillOptions) => number }> = [
  { n: 1, title: "SIGKILL the projector mid-stream", run: projectorSigkillDrill, limitMs: (o) => 120_000 + o.kills * 40_000 + o.events * 3 },
  { n: 2, title: "restart the broker under commands", run: brokerRestartDrill, limitMs: () => 300_000 },
  { n: 3, title: "3-broker cluster, SIGKILL one", run: clusterBrokerKillDrill, limitMs: () => 420_000 },
  { n: 4, title: "restart PostgreSQL mid-projection", run: postgresRestartDrill, limitMs: (o) => 300_000 + o.pgEvents * 3 },
  { n: 5, title: "malformed inputs and messages", run: malformedInputDrill, limitMs: (o) => 600_000 + (o.burstMessages + o.burstSmall) * 60 },
  { n: 6, title: "races: same email, same version", run: racesDrill, limitMs: () => 180_000 },
];

function parseArgs(argv: string[]) {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(k, inline);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith("--")) flags.set(k, argv[++i]!);
    else flags.set(k, "true");
  }
  const full = flags.get("full") === "true";
  const num = (k: string, dflt: number, fullValue = dflt) => {
    const v = flags.get(k);
    if (v === undefined) return full ? fullValue : dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} needs a number, got ${v}`);
    return n;
  };
  const known = new Set(["full", "only", "seed", "events", "kills", "load-seconds", "pg-events", "pg-down-seconds", "bad-inputs", "bad-messages", "burst-messages", "burst-small", "creates", "edits", "rounds", "time-limit-min", "help"]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k} (see drills/run.ts)`);
  const opts: DrillOptions = {
    full,
    seed: num("seed", Math.floor(Math.random() * 1e9)),
    events: num("events", 100_000, 200_000),
    kills: num("kills", 20),
    loadSeconds: num("load-seconds", 10),
    pgEvents: num("pg-events", 30_000, 100_000),
    pgDownSeconds: num("pg-down-seconds", 8),
    badInputs: num("bad-inputs", 10_000),
    badMessages: num("bad-messages", 10_000),
    burstMessages: num("burst-messages", 2_000),
    burstSmall: num("burst-small", 4_000),
    creates: num("creates", 50),
    edits: num("edits", 100),
    rounds: num("rounds", 3),
  };
  const only = flags.get("only")?.split(",").map(Number);
  if (only?.some((n) => !DRILLS.some((d) => d.n === n))) throw new Error(`--only takes drill numbers 1-${DRILLS.length}`);
  return { opts, only, help: flags.has("help"), timeLimitMin: num("time-limit-min", full ? 40 : 20) };
}

interface Row {
  n: number;
  title: string;
  ok: boolean;
  seconds: number;
  summary: string;
  report?: Report;
  error?: string;
}

// One key-encryption key for the run: the drills' workers and checks share it (lib/privacy).
process.env.DATA_KEY_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");

async function main() {
  const { opts, only, help, timeLimitMin } = parseArgs(process.argv.slice(2));
  if (help) {
    console.log(fs.readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]);
    return 0;
  }
  const selected = DRILLS.filter((d) => !only || only.includes(d.n));
  const runStarted = Date.now();
  say(`fault drills ${selected.map((d) => d.n).join(",")} on ${os.hostname()} (${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB), seed ${opts.seed}${opts.full ? ", --full" : ""}`);
  say(`sizes: ${JSON.stringify(opts)}`);

  let postgres: Postgres | undefined;
  let single: KafkaCluster | undefined;
  let singleStarting: Promise<KafkaCluster> | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      killAllProjectors();
      const kafka = single ?? (await singleStarting?.catch(() => undefined));
      await Promise.allSettled([kafka?.stop(), postgres?.down()]);
    })());

  // A hard bound on the whole run: a hung drill must not hang the machine's other users.
  const watchdog = setTimeout(() => {
    say(`TIME LIMIT: the run exceeded ${timeLimitMin} min; stopping everything`);
    void cleanup().finally(() => process.exit(3));
  }, timeLimitMin * 60_000);
  watchdog.unref();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping everything`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const rows: Row[] = [];
  try {
    freshDrillsDir();
    postgres = await Postgres.start();
    for (const drill of selected) {
      const started = Date.now();
      say(`=== drill ${drill.n}: ${drill.title}`);
      const env: DrillEnv = {
        postgres,
        kafka: () => (singleStarting ??= KafkaCluster.start("kafka", 1).then((k) => (single = k))),
        rnd: rng(opts.seed + drill.n),
        opts,
        dir: path.join(DRILLS_DIR, `drill-${drill.n}`),
      };
      fs.mkdirSync(env.dir, { recursive: true });
      let row: Row;
      try {
        const report = await within(drill.limitMs(opts), `drill ${drill.n}`, drill.run(env));
        row = { n: drill.n, title: drill.title, ok: report.ok, seconds: 0, summary: "", report };
      } catch (error) {
        say(`  ERROR ${(error as Error).stack ?? String(error)}`);
        row = { n: drill.n, title: drill.title, ok: false, seconds: 0, summary: "", error: (error as Error).message };
      }
      killAllProjectors();
      row.seconds = Math.round((Date.now() - started) / 1000);
      row.summary = row.error
        ? `error: ${row.error.split("\n")[0]}`
        : Object.entries(row.report!.counts)
            .map(([k, v]) => `${k}: ${v}`)
            .join("; ");
      say(`=== drill ${drill.n}: ${row.ok ? "PASS" : "FAIL"} in ${row.seconds} s`);
      rows.push(row);
      // Postgres must be up for the next drill even if this one died while it was down.
      if (!postgres.handle) await postgres.up().catch((e: unknown) => say(`  could not restart PostgreSQL: ${String(e)}`));
    }
  } finally {
    await cleanup();
  }
  const total = Math.round((Date.now() - runStarted) / 1000);
  printSummary(rows, total);
  fs.writeFileSync(
    path.join(DRILLS_DIR, "last-run.json"),
    JSON.stringify({ host: os.hostname(), cores: os.cpus().length, seed: opts.seed, opts, totalSeconds: total, rows: rows.map(({ report, ...r }) => ({ ...r, checks: report?.checks, notes: report?.notes, counts: report?.counts })) }, null, 2),
  );
  return rows.length === selected.length && rows.every((r) => r.ok) ? 0 : 1;
}

function printSummary(rows: Row[], totalSeconds: number) {
  const lines = ["", "| # | drill | result | time | counts |", "| --- | --- | --- | --- | --- |"];
  for (const r of rows) lines.push(`| ${r.n} | ${r.title} | ${r.ok ? "PASS" : "**FAIL**"} | ${r.seconds} s | ${r.summary} |`);
  lines.push("", `total ${totalSeconds} s; details in ${path.relative(process.cwd(), DRILLS_DIR)}/last-run.json`);
  for (const r of rows) {
    const failed = r.report?.checks.filter((c) => !c.ok) ?? [];
    for (const c of failed) lines.push(`drill ${r.n} FAILED: ${c.name} — ${c.detail}`);
    for (const n of r.report?.notes ?? []) lines.push(`drill ${r.n} note: ${n}`);
  }
  console.log(lines.join("\n"));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
