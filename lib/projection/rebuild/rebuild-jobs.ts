/**
 * Rebuilds as jobs (server only): asked for from the console or the CLI,
 * recorded in read_model_rebuilds, run by one runner at a time (a projector
 * worker that claims it, or `npm run rebuild` itself), with the progress and
 * the outcome written to the row for the health page.
 */
import { hostname } from "node:os";
import type { Kafka } from "kafkajs";
import type { ReadModelRebuild } from "@/generated/prisma/client";
import type { KafkaConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { DomainError } from "@/lib/errors";
import type { Logger } from "@/lib/log";
import type { ProjectionApp } from "../projector";
import { runRebuild, type RebuildOutcome, type RebuildProgress, type TableComparison } from "./rebuild";
import type { StartDecoder } from "./decode-threads";

/** A running rebuild whose heartbeat is older than this has lost its runner. */
export const REBUILD_STALE_AFTER_MS = 60_000;
/** Advisory-lock class of "one active rebuild per group" ("RBLQ"). */
const REQUEST_LOCK_CLASS = 0x52424c51;

export type RebuildStatus = "requested" | "running" | "switched" | "refused" | "failed" | "cancelled";
export const ACTIVE_STATUSES: readonly RebuildStatus[] = ["requested", "running"];

export interface RebuildJob {
  id: bigint;
  acceptDifferences: boolean;
}

/**
 * Records a request; refused while another is active. A running one whose
 * runner died (no heartbeat) is marked failed first, so it cannot block forever.
 */
export async function requestRebuild(
  db: Db,
  input: { group: string; requestedBy: string; acceptDifferences: boolean },
): Promise<ReadModelRebuild> {
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(${REQUEST_LOCK_CLASS}::int, hashtext(${input.group}))::text`;
    await tx.$executeRaw`
      UPDATE read_model_rebuilds SET status = 'failed', finished_at = now(), phase = NULL,
        message = 'Its runner stopped (no heartbeat since ' || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC); the live read model was not switched.'
      WHERE consumer_group = ${input.group} AND status = 'running'
        AND heartbeat_at < now() - make_interval(secs => ${REBUILD_STALE_AFTER_MS / 1000})`;
    const active = await tx.readModelRebuild.findFirst({
      where: { consumerGroup: input.group, status: { in: [...ACTIVE_STATUSES] } },
      orderBy: { id: "desc" },
    });
    if (active) {
      throw new DomainError(
        "conflict",
        `Rebuild #${active.id} is already ${active.status === "requested" ? "waiting to start" : "running"} (asked for by ${active.requestedBy}). ` +
          "Wait for it to finish, or cancel it first.",
      );
    }
    return tx.readModelRebuild.create({
      data: {
        consumerGroup: input.group,
        status: "requested",
        requestedBy: input.requestedBy,
        acceptDifferences: input.acceptDifferences,
      },
    });
  });
}

/** Takes the oldest waiting request for `runner`, if any (SKIP LOCKED: several projectors may poll). */
export async function claimRebuild(db: Db, group: string, runner: string, id?: bigint): Promise<RebuildJob | null> {
  const rows = await db.$queryRaw<{ id: bigint; accept_differences: boolean }[]>`
    UPDATE read_model_rebuilds SET status = 'running', runner = ${runner}, started_at = now(), heartbeat_at = now(), phase = 'catching-up'
    WHERE id = (
      SELECT id FROM read_model_rebuilds
      WHERE consumer_group = ${group} AND status = 'requested' AND (${id ?? null}::bigint IS NULL OR id = ${id ?? null}::bigint)
      ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, accept_differences`;
  const row = rows[0];
  return row ? { id: row.id, acceptDifferences: row.accept_differences } : null;
}

/** Asks a rebuild to stop before its switch; one still waiting is cancelled at once. */
export async function cancelRebuild(db: Db, group: string, id: bigint, by: string): Promise<void> {
  const row = await db.readModelRebuild.findFirst({ where: { id, consumerGroup: group } });
  if (!row) throw new DomainError("not_found", `Rebuild #${id} was not found.`);
  if (row.status === "requested") {
    const { count } = await db.readModelRebuild.updateMany({
      where: { id, status: "requested" },
      data: { status: "cancelled", finishedAt: new Date(), message: `Cancelled by ${by} before it started.` },
    });
    if (count === 1) return;
  }
  const { count } = await db.readModelRebuild.updateMany({
    where: { id, status: "running" },
    data: { cancelRequested: true, message: `Cancel asked for by ${by}.` },
  });
  if (count === 0) throw new DomainError("conflict", `Rebuild #${id} has already finished.`);
}

export interface RebuildRunDeps {
  db: Db;
  config: KafkaConfig;
  /** The modules (modules/index.ts). */
  app: ProjectionApp;
  kafka?: Kafka;
  logger: Logger;
  /** Starts the bulk load's decoding threads (RebuildOptions.decoder). */
  decoder?: StartDecoder;
}

/**
 * Runs a claimed job to its end: progress and heartbeat on the row each
 * second (and to `onProgress`), the outcome when done. Never throws for a
 * failed rebuild: the row says what happened.
 */
export async function executeRebuild(
  deps: RebuildRunDeps,
  job: RebuildJob,
  onProgress?: (progress: RebuildProgress) => void,
): Promise<RebuildOutcome> {
  const { db } = deps;
  let outcome: RebuildOutcome;
  try {
    outcome = await runRebuild({
      ...deps,
      acceptDifferences: job.acceptDifferences,
      runId: String(job.id),
      async onProgress(progress) {
        onProgress?.(progress);
        const row = await db.readModelRebuild.update({
          where: { id: job.id },
          data: {
            phase: progress.phase,
            heartbeatAt: new Date(),
            eventsDone: progress.done,
            eventsTotal: progress.total,
            eventsPerSecond: progress.eventsPerSecond,
          },
          select: { cancelRequested: true },
        });
        return row.cancelRequested ? "cancel" : undefined;
      },
    });
  } catch (error) {
    outcome = failed(error);
  }
  await recordOutcome(db, job.id, outcome);
  return outcome;
}

const failed = (error: unknown): RebuildOutcome => ({ status: "failed", message: `Failed: ${error instanceof Error ? error.message : String(error)}` });

/** The job's row says how it ended. */
async function recordOutcome(db: Db, id: bigint, outcome: RebuildOutcome): Promise<void> {
  await db.readModelRebuild.update({
    where: { id },
    data: {
      status: outcome.status,
      phase: null,
      finishedAt: new Date(),
      heartbeatAt: new Date(),
      message: outcome.message,
      checksums: "comparison" in outcome ? JSON.parse(JSON.stringify(outcome.comparison)) : undefined,
      // Switched: the model holds exactly the log up to the positions it was switched at.
      ...(outcome.status === "switched" ? switchedCounts(outcome.positions) : {}),
    },
  });
}

function switchedCounts(positions: Record<string, string>) {
  const done = Object.values(positions).reduce((n, p) => n + BigInt(p), 0n);
  return { eventsDone: done, eventsTotal: done };
}

/** What `npm run rebuild` runs: request, claim it for this process, run it. */
export async function rebuildNow(
  deps: RebuildRunDeps,
  input: { requestedBy: string; acceptDifferences: boolean },
  onProgress?: (progress: RebuildProgress) => void,
): Promise<{ id: bigint; outcome: RebuildOutcome }> {
  const group = deps.config.PROJECTOR_GROUP_ID;
  const row = await requestRebuild(deps.db, { group, ...input });
  const job = await claimRebuild(deps.db, group, `cli ${hostname()}:${process.pid}`, row.id);
  if (!job) throw new Error(`rebuild #${row.id} was claimed by a projector worker first; follow it on the health page`);
  return { id: row.id, outcome: await executeRebuild(deps, job, onProgress) };
}

/**
 * For the projector worker: every few seconds, claim and run a requested
 * rebuild (one at a time in this process). `stop()` waits for a run in
 * progress to end (the worker's shutdown cancels it through the row first).
 * `execute` runs a claimed job elsewhere (the projector worker: in a thread of
 * its own, workers/rebuild-thread.ts); it must record the outcome as
 * `executeRebuild` does. If it fails instead (the thread died), the row is
 * marked failed here, so the job does not wait for its heartbeat to go stale.
 */
export function startRebuildPoller(
  deps: RebuildRunDeps & { runner: string; intervalMs?: number; execute?: (job: RebuildJob) => Promise<RebuildOutcome> },
) {
  const execute = deps.execute ?? ((job: RebuildJob) => executeRebuild(deps, job));
  const group = deps.config.PROJECTOR_GROUP_ID;
  let running: Promise<unknown> | null = null;
  let current: bigint | null = null;
  const tick = async () => {
    if (running) return;
    const job = await claimRebuild(deps.db, group, deps.runner);
    if (!job) return;
    current = job.id;
    deps.logger.info({ rebuildId: String(job.id) }, "rebuild claimed");
    running = execute(job)
      .catch(async (error: unknown) => {
        deps.logger.error({ err: error, rebuildId: String(job.id) }, "rebuild stopped without an outcome");
        await recordOutcome(deps.db, job.id, failed(error)).catch((e: unknown) =>
          deps.logger.warn({ err: e, rebuildId: String(job.id) }, "could not record the rebuild as failed; its heartbeat goes stale instead"),
        );
      })
      .finally(() => {
        running = null;
        current = null;
      });
  };
  const timer = setInterval(() => {
    tick().catch((error: unknown) => deps.logger.warn({ err: error }, "could not check for rebuild requests"));
  }, deps.intervalMs ?? 2_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      if (current !== null) {
        await deps.db.readModelRebuild
          .update({ where: { id: current }, data: { cancelRequested: true, message: "Cancelled: its projector worker is stopping." } })
          .catch(() => {});
      }
      await running;
    },
  };
}

export interface RebuildView {
  id: string;
  status: RebuildStatus;
  phase: string | null;
  requestedBy: string;
  requestedAt: Date;
  acceptDifferences: boolean;
  cancelRequested: boolean;
  runner: string | null;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  finishedAt: Date | null;
  done: bigint;
  total: bigint;
  eventsPerSecond: number;
  message: string | null;
  /** Live and rebuilt tables compared at the switch offsets (refused or switched). */
  comparison: TableComparison[] | null;
  /** Running but no heartbeat for REBUILD_STALE_AFTER_MS. */
  stale: boolean;
}

/** The latest rebuilds of `group`, newest first (the health page shows the first and a short history). */
export async function recentRebuilds(db: Db, group: string, take = 5, now = new Date()): Promise<RebuildView[]> {
  const rows = await db.readModelRebuild.findMany({ where: { consumerGroup: group }, orderBy: { id: "desc" }, take });
  return rows.map((r) => ({
    id: String(r.id),
    status: r.status as RebuildStatus,
    phase: r.phase,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt,
    acceptDifferences: r.acceptDifferences,
    cancelRequested: r.cancelRequested,
    runner: r.runner,
    startedAt: r.startedAt,
    heartbeatAt: r.heartbeatAt,
    finishedAt: r.finishedAt,
    done: r.eventsDone,
    total: r.eventsTotal,
    eventsPerSecond: r.eventsPerSecond,
    message: r.message,
    comparison: Array.isArray(r.checksums) ? (r.checksums as unknown as TableComparison[]) : null,
    stale: r.status === "running" && !!r.heartbeatAt && now.getTime() - r.heartbeatAt.getTime() > REBUILD_STALE_AFTER_MS,
  }));
}
