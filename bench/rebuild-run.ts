/**
 * The rebuild figure, measured on the real path: `runRebuild` (what
 * `npm run rebuild` and the console run) on a read model its live projector
 * has caught up, so it replays the whole backlog into a shadow schema, builds
 * the indexes, compares every table at equal offsets and switches.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka } from "kafkajs";
import type { CommandDeps } from "@/lib/command/execute";
import type { KafkaConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { silentLogger } from "@/lib/log";
import { runRebuild, type PhaseTiming } from "@/lib/projection/rebuild/rebuild";
import { rebuildDecoder } from "@/workers/rebuild-decoder";
import { requestRebuild } from "@/lib/projection/rebuild/rebuild-jobs";
import { startCpuProfile, visibleWithin } from "./measure";
import { hr } from "./stats";
import { app } from "@/modules";
import { createUser } from "@/modules/users/application/user-commands";

export interface RebuildRun {
  /** Messages the switched model was compared at. */
  events: number;
  ms: number;
  /** Replay only (both catching-up phases): events / that time. */
  replayRate: number;
  phases: PhaseTiming[];
  /** The live projector held at the fence: catching up the last messages, checksums, swap. */
  liveHeldMs: number;
  /** Messages the bulk path folded (0: batch by batch). */
  bulkMessages: number;
  /**
   * CPU time of this process (the rebuild runs in it: decode, fold, COPY formatting) during the
   * rebuild; the rest of the wall time is spent waiting on PostgreSQL (and Kafka).
   */
  cpuMs: number;
  /** The most V8 heap in use during the rebuild, sampled every 250 ms (the bulk load's states and event ids). */
  peakHeapMb: number;
  /** With `profile`: this process's V8 CPU profile over the rebuild. */
  cpuProfile?: object;
}

export async function measureRebuild(opts: {
  url: string;
  config: KafkaConfig;
  kafka: Kafka;
  bulk?: boolean;
  profile?: boolean;
  /** The bulk load's decoding threads (0: on this thread). */
  decodeThreads: number;
}): Promise<RebuildRun> {
  const db = createDb(opts.url);
  let stopProfile: (() => Promise<object>) | undefined;
  try {
    if (opts.profile) stopProfile = await startCpuProfile();
    const t0 = hr();
    const cpu0 = process.cpuUsage();
    const heapAtStart = process.memoryUsage().heapUsed;
    let peakHeap = heapAtStart;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 250);
    const outcome = await runRebuild({ db, config: opts.config, app, kafka: opts.kafka, logger: silentLogger, runId: "bench", bulk: opts.bulk, decoder: rebuildDecoder(opts.decodeThreads) }).finally(() =>
      clearInterval(sampler),
    );
    const ms = hr() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuProfile = await stopProfile?.();
    stopProfile = undefined;
    if (outcome.status !== "switched") throw new Error(`rebuild ${outcome.status}: ${outcome.message}`);
    const events = Object.values(outcome.positions).reduce((n, p) => n + Number(p), 0);
    const replayMs = outcome.phases.filter((p) => p.phase === "catching-up").reduce((n, p) => n + p.ms, 0);
    return {
      events,
      ms,
      replayRate: replayMs > 0 ? (events / replayMs) * 1000 : Number.NaN,
      phases: outcome.phases,
      liveHeldMs: outcome.liveHeldMs,
      bulkMessages: outcome.bulkMessages,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakHeapMb: (peakHeap - heapAtStart) / 2 ** 20,
      cpuProfile,
    };
  } finally {
    await stopProfile?.().catch(() => {});
    await db.$disconnect();
  }
}

/**
 * `--rebuild-by-worker`: the rebuild asked of the running projector worker through its row, as the
 * console asks it (requestRebuild), so it runs where the console's rebuilds run: in the live
 * projector's process (in a thread of its own since 12-02). Timed from the worker's claim
 * to its outcome; the phases and the bulk path's size come from the worker's log lines; `cpuMs` is
 * the whole worker's CPU, the live projector's included, and the heap is not measured.
 */
export async function rebuildByWorker(opts: { url: string; group: string; worker: ChildProcess }): Promise<RebuildRun> {
  const db = createDb(opts.url);
  const lines: Array<Record<string, unknown>> = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split("\n");
    partial = complete.pop() ?? "";
    for (const line of complete) if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
  };
  opts.worker.stdout!.on("data", onData);
  const cpu = () => {
    const fields = readFileSync(`/proc/${opts.worker.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 10 ms
  };
  try {
    const cpu0 = cpu();
    const { id } = await requestRebuild(db, { group: opts.group, requestedBy: "bench", acceptDifferences: false });
    const active = ["requested", "running"];
    let row = await db.readModelRebuild.findUniqueOrThrow({ where: { id } });
    while (active.includes(row.status)) {
      await sleep(100);
      row = await db.readModelRebuild.findUniqueOrThrow({ where: { id } });
    }
    const cpuMs = cpu() - cpu0;
    if (row.status !== "switched") throw new Error(`rebuild #${id} ${row.status}: ${row.message}`);
    const ours = (msg: string) => lines.find((l) => l.msg === msg && String(l.rebuildGroup).endsWith(`.rebuild.${id}`));
    for (let waited = 0; !ours("rebuild finished") && waited < 5_000; waited += 50) await sleep(50);
    const phases = (ours("rebuild finished")?.phases ?? []) as PhaseTiming[];
    const events = Number(row.eventsDone);
    const replayMs = phases.filter((p) => p.phase === "catching-up").reduce((n, p) => n + p.ms, 0);
    const held = /New events waited ([\d,]+) ms/.exec(row.message ?? "")?.[1];
    return {
      events,
      ms: row.finishedAt!.getTime() - row.startedAt!.getTime(),
      replayRate: replayMs > 0 ? (events / replayMs) * 1000 : Number.NaN,
      phases,
      liveHeldMs: held ? Number(held.replace(/,/g, "")) : Number.NaN,
      bulkMessages: Number(ours("bulk load up to the live positions")?.messages ?? 0),
      cpuMs,
      peakHeapMb: Number.NaN,
    };
  } finally {
    opts.worker.stdout!.off("data", onData);
    await db.$disconnect();
  }
}

/** What commands offered during a rebuild saw (`--rebuild-load`). */
export interface LoadDuringRebuild {
  offered: number;
  /** createUser's acknowledgement, ms from each command's scheduled start. */
  acks: number[];
  /** Until the live projector's batch with the command's event committed, ms from its scheduled start. */
  visible: number[];
  errors: string[];
  notVisible: number;
}

/**
 * createUser at `rate` per second from now until `until` settles (the rebuild), paced from a fixed
 * schedule whatever the earlier calls are doing (open loop), with the real projector worker applying
 * them to the model being rebuilt: the switch then holds a projector that has work to do, and
 * closes a gap that is really there. Each command is timed from its scheduled start.
 */
export async function commandsDuring(opts: {
  deps: CommandDeps;
  watcher: Parameters<typeof visibleWithin>[0];
  rate: number;
  label: string;
  until: Promise<unknown>;
  visibleTimeoutMs?: number;
}): Promise<LoadDuringRebuild> {
  let running = true;
  opts.until.then(
    () => (running = false),
    () => (running = false),
  );
  const acks: number[] = [];
  const visible: number[] = [];
  const errors: string[] = [];
  let notVisible = 0;
  const pending: Array<Promise<void>> = [];
  const ctx = { actor: { kind: "service", name: "bench" } as const };
  const interval = 1000 / opts.rate;
  const start = hr();
  let offered = 0;
  for (let i = 0; running; i++) {
    const at = start + i * interval;
    const wait = at - hr();
    if (wait > 1) await sleep(wait);
    if (!running) break;
    offered++;
    pending.push(
      createUser(opts.deps, ctx, { email: `rebuild.${opts.label}.${i}@bench.example.com`, name: `Rebuild load ${i}` }).then(
        async (result) => {
          acks.push(hr() - at);
          const e = result.events[0]!;
          const seenAt = await visibleWithin(opts.watcher, e, opts.visibleTimeoutMs ?? 30_000);
          if (Number.isNaN(seenAt)) notVisible++;
          else visible.push(seenAt - at);
        },
        (error: unknown) => void errors.push(String(error)),
      ),
    );
  }
  await Promise.all(pending);
  return { offered, acks, visible, errors, notVisible };
}
