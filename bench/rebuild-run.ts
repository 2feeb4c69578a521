/**
 * The rebuild figure, measured on the real path: `runRebuild` (what
 * `npm run rebuild` and the console run) on a read model its live projector
 * has caught up, so it replays the whole backlog into a shadow schema, builds
 * the indexes, compares every table at equal offsets and switches.
 */
import type { Kafka } from "kafkajs";
import type { KafkaConfig } from "@/lib/config";
import { createDb } from "@/lib/db";
import { silentLogger } from "@/lib/log";
import { runRebuild, type PhaseTiming } from "@/lib/projection/rebuild/rebuild";
import { startCpuProfile } from "./measure";
import { hr } from "./stats";
import { app } from "@/modules";

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
    const outcome = await runRebuild({ db, config: opts.config, app, kafka: opts.kafka, logger: silentLogger, runId: "bench", bulk: opts.bulk }).finally(() =>
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
