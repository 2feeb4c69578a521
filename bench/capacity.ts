/**
 * Command capacity (issue 15): `npm run bench -- --capacity [--capacity-rates 50,200,500,1000,2000] [--duration S]`.
 *
 * The command latency figure is measured at one offered rate (50/s); this is the curve above it:
 * for each offered rate, lowest first, the same measurement as that figure (`runCommands`:
 * `createUser` on the application layer, personal data sealed as the console does, in an open
 * loop timed from each call's scheduled start, the real projector worker running beside it as
 * its own process), and just before it the plain Prisma insert of a user at the same rate
 * (`runCrudInserts`, a database of its own), the baseline measured in the same run.
 *
 * Per rate: createUser p50/p95/p99/max, the rate that completed, the errors, the baseline's p99
 * and the ratio of the two p99s, and PostgreSQL's WAL per createUser (the cluster's, while the
 * commands ran and the projector followed them), and the CPU per createUser of this process (the
 * console's share) and of the whole machine (/proc/stat: console, projector, PostgreSQL, broker).
 * The capacity is the highest offered rate whose p99 is under 100 ms with no error, beside the
 * target of 1,000 createUser/s.
 *
 * Each loop stops by itself (`openLoop`: at most rate × (warm-up + duration) calls, and calls
 * still running 30 s after the last scheduled start are counted as errors). Such calls keep
 * running and would weigh on the next rate, so the curve stops at the first rate that left any.
 */
import type { CommandDeps, CommandStep } from "@/lib/command/execute";
import type { Db } from "@/lib/db";
import { p, runCommands, runCrudInserts, type Log, type visibilityWatcher } from "./measure";
import { fmt } from "./stats";

export const DEFAULT_CAPACITY_RATES = [50, 200, 500, 1000, 2000];
export const CAPACITY_P99_MS = 100;
export const CAPACITY_TARGET = 1_000;
/** The warm-up before each rate's measured window: the command latency figure's. */
export const CAPACITY_WARMUP_MS = 5_000;

export interface CapacityPoint {
  rate: number;
  /** Measured createUser calls acknowledged. */
  count: number;
  achievedRate: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Failed, unfinished at the loop's time bound, or never started. */
  errors: number;
  firstError?: string;
  visible99: number;
  notVisible: number;
  /** Worst delay of a call's start behind its schedule (the load generator's own lag). */
  lateStartsMs: number;
  baseline: { p99: number; achievedRate: number; errors: number };
  /**
   * PostgreSQL's WAL written per createUser appended (warm-up included), the whole cluster while
   * the commands ran and the projector followed: the command's transaction, its key, the batches.
   */
  walBytesPerCommand: number;
  /**
   * PostgreSQL's committed transactions per createUser appended, the whole cluster over the same
   * span: the command's own, and its share of the projector's batches (fewer when they merge).
   */
  commitsPerCommand: number;
  /** The bench process's CPU per createUser appended: the console's share (runCommands). */
  cpuMsPerCommand: number;
  /** The machine's busy CPU per createUser appended: console, projector, PostgreSQL, broker. */
  machineCpuMsPerCommand: number;
  /** One createUser at a time before the loop: p50 of each step (lib/command/execute.ts, CommandStep). */
  serialSteps: Partial<Record<CommandStep, number>>;
  /** The loop's commands: p50 and p99 of each step (where the tail is spent). */
  loadSteps: Partial<Record<CommandStep, { p50: number; p99: number }>>;
}

export async function measureCapacity(opts: {
  deps: CommandDeps;
  /** A database of its own for the plain inserts. */
  crudDb: Db;
  watcher: Awaited<ReturnType<typeof visibilityWatcher>>;
  rates: number[];
  durationMs: number;
  label: string;
  log: Log;
}): Promise<{ points: CapacityPoint[]; skipped: number[] }> {
  const rates = [...new Set(opts.rates)].sort((a, b) => a - b);
  const points: CapacityPoint[] = [];
  const common = { durationMs: opts.durationMs, warmupMs: CAPACITY_WARMUP_MS };
  for (const [k, rate] of rates.entries()) {
    const label = `${opts.label}-${rate}`;
    const b = await runCrudInserts({ db: opts.crudDb, rate, label, ...common });
    const wal0 = await walPosition(opts.deps.db);
    const commits0 = await commitsSoFar(opts.deps.db);
    const c = await runCommands({ deps: opts.deps, rate, label, watcher: opts.watcher, visibleTimeoutMs: 10_000, ...common });
    const walBytes = await walSince(opts.deps.db, wal0);
    const commits = (await commitsSoFar(opts.deps.db)) - commits0;
    const point: CapacityPoint = {
      rate,
      count: c.acks.length,
      achievedRate: c.achievedRate,
      p50: p(c.acks, 50),
      p95: p(c.acks, 95),
      p99: p(c.acks, 99),
      max: c.acks.length ? Math.max(...c.acks) : Number.NaN,
      errors: c.errors.length,
      firstError: c.errors[0]?.slice(0, 300),
      visible99: p(c.visible, 99),
      notVisible: c.notVisible,
      lateStartsMs: c.lateStartsMs,
      baseline: { p99: p(b.latencies, 99), achievedRate: b.achievedRate, errors: b.errors.length },
      walBytesPerCommand: c.appended > 0 ? walBytes / c.appended : Number.NaN,
      commitsPerCommand: c.appended > 0 ? commits / c.appended : Number.NaN,
      cpuMsPerCommand: c.cpuMsPerCommand,
      machineCpuMsPerCommand: c.machineCpuMsPerCommand,
      serialSteps: c.serialSteps,
      loadSteps: c.loadSteps,
    };
    points.push(point);
    opts.log(
      `capacity ${rate}/s offered: ${point.count} createUser acknowledged, ${Math.round(point.achievedRate)}/s completed, ` +
        `p50 ${fmt(point.p50, "ms")} p95 ${fmt(point.p95, "ms")} p99 ${fmt(point.p99, "ms")} max ${fmt(point.max, "ms")}, ${point.errors} errors` +
        `${point.firstError ? ` (first: ${point.firstError})` : ""}, visible p99 ${fmt(point.visible99, "ms")} (${point.notVisible} not in 10 s), ` +
        `worst scheduling delay ${fmt(point.lateStartsMs, "ms")}, WAL ${Math.round(point.walBytesPerCommand).toLocaleString()} bytes, ${point.commitsPerCommand.toFixed(2)} transactions committed and ${fmt(point.cpuMsPerCommand, "ms")} of this process's CPU (${fmt(point.machineCpuMsPerCommand, "ms")} of the machine's) per createUser; ` +
        `one at a time, p50 per step: ${Object.entries(point.serialSteps).map(([step, ms]) => `${step} ${fmt(ms, "ms")}`).join(", ")}; ` +
        `in the loop, p50/p99 per step: ${Object.entries(point.loadSteps).map(([step, q]) => `${step} ${fmt(q.p50, "ms")}/${fmt(q.p99, "ms")}`).join(", ")}; plain Prisma insert p99 ${fmt(point.baseline.p99, "ms")} (${Math.round(b.achievedRate)}/s completed, ${b.errors.length} errors)`,
    );
    if (c.unfinished > 0 || b.unfinished > 0) {
      const skipped = rates.slice(k + 1);
      if (skipped.length) opts.log(`capacity: calls still running at ${rate}/s; not offering ${skipped.join(", ")}/s on top of them`);
      return { points, skipped };
    }
  }
  return { points, skipped: [] };
}

/** The cluster's current WAL insert position. */
async function walPosition(db: Db): Promise<string> {
  const [row] = await db.$queryRaw<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
  return row!.lsn;
}

/** Transactions committed in the cluster so far (PostgreSQL's cumulative statistics, flushed about once a second). */
async function commitsSoFar(db: Db): Promise<number> {
  const [row] = await db.$queryRaw<{ commits: string }[]>`SELECT sum(xact_commit)::text AS commits FROM pg_stat_database`;
  return Number(row!.commits);
}

/** Bytes of WAL written since `from`. */
async function walSince(db: Db, from: string): Promise<number> {
  const [row] = await db.$queryRaw<{ bytes: string }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${from}::pg_lsn)::text AS bytes`;
  return Number(row!.bytes);
}

const meetsP99 = (pt: CapacityPoint) => pt.p99 < CAPACITY_P99_MS && pt.errors === 0 && pt.count > 0;

/** The highest offered rate with p99 under 100 ms and no error; null if none. */
export function capacityOf(points: CapacityPoint[]): number | null {
  const ok = points.filter(meetsP99).map((pt) => pt.rate);
  return ok.length ? Math.max(...ok) : null;
}

/** The curve, one row per offered rate, and the capacity beside its target, as Markdown tables. */
export function capacityReport(points: CapacityPoint[], skipped: number[]): string {
  const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "—");
  const ms = (v: number) => fmt(v, "ms");
  const curve = [
    `| offered createUser/s | completed/s | p50 | p95 | p99 | max | errors | plain Prisma insert p99, same rate | p99 / insert p99 | → visible p99 | WAL per createUser | PostgreSQL commits per createUser | console CPU per createUser | machine CPU per createUser | p99 < ${CAPACITY_P99_MS} ms, no errors |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...points.map(
      (pt) =>
        `| ${n(pt.rate)} | ${n(pt.achievedRate)} | ${ms(pt.p50)} | ${ms(pt.p95)} | ${ms(pt.p99)} | ${ms(pt.max)} | ${pt.errors} | ${ms(pt.baseline.p99)}${pt.baseline.errors ? ` (${pt.baseline.errors} errors)` : ""} | ` +
        `${Number.isFinite(pt.p99 / pt.baseline.p99) ? `${(pt.p99 / pt.baseline.p99).toFixed(1)}×` : "—"} | ${ms(pt.visible99)}${pt.notVisible ? ` (${pt.notVisible} not in 10 s)` : ""} | ${n(pt.walBytesPerCommand)} B | ${Number.isFinite(pt.commitsPerCommand) ? pt.commitsPerCommand.toFixed(2) : "—"} | ${ms(pt.cpuMsPerCommand)} | ${ms(pt.machineCpuMsPerCommand)} | ${meetsP99(pt) ? "yes" : "**no**"} |`,
    ),
    ...skipped.map((rate) => `| ${n(rate)} | not offered: calls of the rate before were still running | | | | | | | | | | | | | |`),
  ];
  const order: CommandStep[] = ["begin", "lock", "decide", "before-append", "save-head", "keys", "append", "commit"];
  const steps = [
    `Where a createUser's time goes in each loop (lib/command/execute.ts, CommandStep), p50 / p99 of each step; "begin" includes the wait for a pooled connection:`,
    "",
    `| offered createUser/s | ${order.join(" | ")} |`,
    `| --- | ${order.map(() => "---").join(" | ")} |`,
    ...points.map((pt) => `| ${n(pt.rate)} | ${order.map((step) => (pt.loadSteps[step] ? `${ms(pt.loadSteps[step].p50)} / ${ms(pt.loadSteps[step].p99)}` : "—")).join(" | ")} |`),
  ];
  const capacity = capacityOf(points);
  const highest = Math.max(...points.map((pt) => pt.rate), ...skipped);
  const verdict =
    capacity !== null && capacity >= CAPACITY_TARGET
      ? "meets"
      : capacity !== null && capacity === highest
        ? `not reached: no rate ≥ ${n(CAPACITY_TARGET)}/s offered`
        : "**misses**";
  const summary = [
    "| figure | result | target (2 cores) | verdict |",
    "| --- | --- | --- | --- |",
    `| command capacity: the highest offered createUser rate with p99 < ${CAPACITY_P99_MS} ms and no errors | ${capacity === null ? `none of ${points.map((pt) => pt.rate).join(", ")}/s` : `${n(capacity)} createUser/s`} | ≥ ${n(CAPACITY_TARGET)} createUser/s | ${verdict} |`,
  ];
  return [...curve, "", ...steps, "", ...summary].join("\n");
}
