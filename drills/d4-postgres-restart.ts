/**
 * Drill 4: stop PostgreSQL in the middle of projection (fast shutdown), keep it
 * down for a while, start it again. The projector process must wait, resume on
 * its own, and lose nothing: the read model equals the fold of the log.
 */
import path from "node:path";
import type { DrillEnv } from "./lib/context";
import { createScope } from "./lib/infra";
import { spawnProjector } from "./lib/projector";
import { asMessage, pump, SyntheticEvents, volumeProducer } from "./lib/synthetic";
import { Report, say, sleep } from "./lib/util";
import { compareWithFold, foldLog, logSummary, projectedPosition, readLog, snapshotReadModel, waitUntilCaughtUp } from "./lib/verify";

export async function postgresRestartDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const { opts } = env;
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d4", { partitions: 12 });
  const producer = volumeProducer(scope);
  const projector = spawnProjector(scope, path.join(env.dir, "projector.log"));
  try {
    await projector.started();
    await producer.connect();
    const gen = new SyntheticEvents(env.rnd);
    const rate = Math.max(1000, Math.round(opts.pgEvents / 25));
    say(`  streaming ${opts.pgEvents} events at ≤${rate}/s`);
    const streamed = pump(producer, opts.pgEvents, () => asMessage(scope, gen.next()), { ratePerSec: rate });
    const threshold = Math.min(5_000, opts.pgEvents / 4);
    for (let i = 0; (await projectedPosition(scope)) < threshold; i++) {
      if (i > 600) throw new Error("projector made no progress in 2 minutes");
      await sleep(200);
    }
    const at = await projectedPosition(scope);
    say(`  stopping PostgreSQL at stored position ${at}`);
    const downAt = Date.now();
    await env.postgres.down();
    await sleep(opts.pgDownSeconds * 1000);
    report.check("projector process alive while PostgreSQL is down", projector.child.exitCode === null, `exit ${projector.child.exitCode}`);
    await env.postgres.up();
    say(`  PostgreSQL back after ${Date.now() - downAt} ms`);
    const acknowledged = await streamed;
    const upAt = Date.now();
    await waitUntilCaughtUp(scope, 300_000, (b) => say(`  projector ${b} behind`), projector.deadReason);
    report.count("events acknowledged", acknowledged);
    report.count("position when stopped", at);
    report.count("PostgreSQL down (s)", opts.pgDownSeconds);
    report.count("caught up after restart (s)", Math.round((Date.now() - upAt) / 1000));
    const crashes = projector.lines.filter((l) => l.includes("consumer crashed")).length;
    report.count("consumer crash/restart log lines", crashes);
    report.check("the same projector process resumed (never exited)", projector.child.exitCode === null, "");
    const stopped = await projector.kill("SIGTERM");
    report.check("projector stops cleanly on SIGTERM", stopped.code === 0, `exit ${stopped.code}`);

    const log = await readLog(scope);
    const fold = await foldLog(scope, log);
    logSummary(fold);
    report.check("every acknowledged event is in the log", log.length === acknowledged, `${log.length} messages`);
    compareWithFold(report, fold, await snapshotReadModel(scope));
    return report;
  } finally {
    await projector.kill("SIGKILL");
    await producer.disconnect().catch(() => {});
    await scope.close();
  }
}
