/**
 * Drill 2: restart the (single) broker while commands are issued, twice: a
 * SIGKILL and a controlled SIGTERM shutdown. Every command that reported
 * success must be in the log and the read model; every failed one must have
 * reported "unavailable" and left nothing (no message with its correlation id).
 */
import path from "node:path";
import type { DrillEnv } from "./lib/context";
import { createScope } from "./lib/infra";
import { sharedPositions, startCommandLoad, summarize } from "./lib/load";
import { spawnProjector } from "./lib/projector";
import { Report, say, sleep } from "./lib/util";
import { compareWithFold, foldLog, logSummary, readLog, snapshotReadModel, waitUntilCaughtUp } from "./lib/verify";

export async function brokerRestartDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d2", { partitions: 6 });
  const projector = spawnProjector(scope, path.join(env.dir, "projector.log"));
  await projector.started();
  const load = startCommandLoad(scope, env.rnd, 6, "d2");
  try {
    const phase = env.opts.loadSeconds * 1000;
    await sleep(phase / 2);
    // The fault must hit a system that is working: wait for the first successes.
    for (let i = 0; i < 300 && load.outcomes.filter((o) => o.ok).length < 20; i++) await sleep(100);
    const restarts: Array<{ how: string; downAt: number; upAt: number }> = [];
    for (const how of ["SIGKILL", "SIGTERM"] as const) {
      const downAt = Date.now();
      say(`  ${how} the broker (pid ${kafka.nodes[0]!.handle?.pid}) with ${load.outcomes.length} commands done`);
      if (how === "SIGKILL") await kafka.killNode(1);
      else await kafka.stopNode(1);
      await sleep(1000);
      await kafka.startNode(1);
      const upAt = Date.now();
      say(`  broker back after ${upAt - downAt} ms`);
      restarts.push({ how, downAt, upAt });
      await sleep(phase / 2);
    }
    await load.stop();
    const s = summarize(load.outcomes);
    report.count("commands", load.outcomes.length);
    report.count("succeeded", s.ok);
    report.count("failed", s.failed);
    report.count("failure codes", s.codes);
    report.count("slowest failure (ms)", s.maxFailMs);
    const after = load.outcomes.filter((o) => o.ok && o.startedAt > restarts.at(-1)!.upAt).length;
    report.count("succeeded after the last restart", after);

    await waitUntilCaughtUp(scope, 180_000, (b) => say(`  projector ${b} behind`), projector.deadReason);
    report.check("projector process survived both restarts", projector.child.exitCode === null, projector.child.exitCode === null ? "" : `exited ${projector.child.exitCode}`);
    await projector.kill("SIGTERM");

    const log = await readLog(scope);
    const fold = await foldLog(scope, log);
    logSummary(fold);
    const rm = await snapshotReadModel(scope);
    const projected = new Set(rm.userEvents.map((l) => l.split("|")[0]!));
    const succeeded = load.outcomes.filter((o) => o.ok);
    const lostInLog = succeeded.filter((o) => o.eventIds.some((id) => !fold.eventIds.has(id)));
    const lostInModel = succeeded.filter((o) => o.eventIds.some((id) => !projected.has(id)));
    report.check("every acknowledged command is in the log", lostInLog.length === 0, `${succeeded.length} acknowledged, ${lostInLog.length} missing`);
    report.check("every acknowledged command is in the read model", lostInModel.length === 0, `${lostInModel.length} missing`);
    const shared = sharedPositions(load.outcomes);
    report.check("no two acknowledged events were given one log position", shared.length === 0, shared.slice(0, 5).join(", ") || "0");
    const failed = load.outcomes.filter((o) => !o.ok);
    const wrongCode = failed.filter((o) => o.code !== "unavailable");
    report.check('every failed command reported "unavailable"', wrongCode.length === 0, wrongCode.length ? wrongCode.slice(0, 3).map((o) => `${o.op} ${o.code}: ${o.message}`).join(" | ") : `${failed.length} failures`);
    const leftovers = failed.filter((o) => fold.byCorrelation.has(o.correlationId));
    report.check(
      "every failed command left nothing in the log",
      leftovers.length === 0,
      leftovers.length ? `${leftovers.length} failed commands are in the log anyway: ${leftovers.slice(0, 3).map((o) => `${o.op} after ${o.ms} ms: ${o.message}`).join(" | ")}` : `${failed.length} checked`,
    );
    report.check("the restarts hit in-flight commands", failed.length > 0, `${failed.length} failures`);
    report.check("commands succeed again after the restart", after > 0, `${after}`);
    report.check("no event id twice in the log", fold.duplicateIds === 0, `${fold.duplicateIds}`);
    compareWithFold(report, fold, rm);
    return report;
  } finally {
    await load.stop();
    await projector.kill("SIGKILL");
    await scope.close();
  }
}
