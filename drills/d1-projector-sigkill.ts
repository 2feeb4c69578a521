/**
 * Drill 1: SIGKILL the projector process N times at random moments while a
 * stream of events comes in (synthetic volume in the real format, plus real
 * commands); then the read model must equal the fold of the whole log.
 */
import path from "node:path";
import { createRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, recordLogin, updateUser } from "@/modules/users/application/user-commands";
import type { DrillEnv } from "./lib/context";
import { createScope } from "./lib/infra";
import { spawnProjector, type ProjectorProcess } from "./lib/projector";
import { asMessage, pump, SyntheticEvents, volumeProducer } from "./lib/synthetic";
import { errorCode, Report, say, sleep } from "./lib/util";
import { compareWithFold, foldLog, logSummary, projectedPosition, readLog, snapshotReadModel, waitUntilCaughtUp } from "./lib/verify";

export async function projectorSigkillDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const { opts, rnd } = env;
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d1", { partitions: 12 });
  const producer = volumeProducer(scope);
  let current: ProjectorProcess | undefined;
  try {
    await producer.connect();
    // Pace the stream so that it lasts about as long as the kills (each costs ~10-13 s:
    // start-up plus the dead member's 10 s session timeout before its partitions move).
    // With 0 kills the stream runs at full speed.
    const rate = opts.kills === 0 ? 0 : Math.max(200, Math.round(opts.events / (Math.max(1, opts.kills) * 13)));
    say(`  streaming ${opts.events} synthetic events at ≤${rate}/s, plus real commands; ${opts.kills} SIGKILLs`);
    const gen = new SyntheticEvents(rnd);
    let producing = true;
    let sent = 0;
    const streamed = pump(producer, opts.events, () => asMessage(scope, gen.next()), {
      ratePerSec: rate,
      onProgress: (n) => (sent = n),
    }).finally(() => (producing = false));

    // Real commands through the application layer, alongside the volume.
    const role = await createRole(scope.deps, scope.ctx, { name: "drill-1-role" });
    const acknowledged: string[] = [];
    const commandErrors = new Map<string, number>();
    let commanding = true;
    const commands = (async () => {
      let n = 0;
      while (commanding) {
        await Promise.all(
          Array.from({ length: 3 }, async () => {
            const i = n++;
            try {
              const u = await createUser(scope.deps, scope.ctx, { email: `cmd${i}@d1.example`, name: `Command ${i}` });
              const a = await assignRole(scope.deps, scope.ctx, { userId: u.aggregateId, roleId: role.aggregateId });
              const up = await updateUser(scope.deps, scope.ctx, { userId: u.aggregateId, expectedVersion: 2, name: `Command ${i} renamed` });
              const l = await recordLogin(scope.deps, scope.ctx, { userId: u.aggregateId, ip: "192.0.2.1", userAgent: "drill" });
              for (const r of [u, a, up, l]) acknowledged.push(...r.events.map((e) => e.event.id));
            } catch (error) {
              commandErrors.set(errorCode(error), (commandErrors.get(errorCode(error)) ?? 0) + 1);
            }
          }),
        );
        await sleep(100);
      }
    })();

    let killsWhileProducing = 0;
    let killsMidProjection = 0;
    const started = Date.now();
    for (let k = 1; k <= opts.kills; k++) {
      current = spawnProjector(scope, path.join(env.dir, `projector-${k}.log`));
      const before = await projectedPosition(scope);
      const waitUntil = Date.now() + 45_000;
      let progressed = false;
      while (Date.now() < waitUntil && current.child.exitCode === null) {
        if ((await projectedPosition(scope)) > before) {
          progressed = true;
          break;
        }
        await sleep(150);
      }
      if (current.child.exitCode !== null) {
        report.check(`projector #${k} stayed up until killed`, false, `exited on its own: ${current.lines.slice(-5).join(" | ")}`);
        break;
      }
      await sleep(rnd.int(0, 2500));
      const at = await projectedPosition(scope);
      if (producing) killsWhileProducing++;
      if (progressed) killsMidProjection++;
      await current.kill("SIGKILL");
      say(`  kill ${k}/${opts.kills}: pid ${current.pid} SIGKILLed at stored position ${at}, ${sent} events sent${progressed ? "" : " (it had not projected yet)"}`);
    }
    report.count("kills", opts.kills);
    report.count("kills while events were still being produced", killsWhileProducing);
    report.count("kills after the instance had committed a batch", killsMidProjection);
    const killPhase = Date.now() - started;

    current = spawnProjector(scope, path.join(env.dir, "projector-final.log"));
    const streamedCount = await streamed;
    commanding = false;
    await commands;
    const catchUpStart = Date.now();
    const last = current;
    await waitUntilCaughtUp(scope, 600_000, (behind) => say(`  final projector: ${behind} messages behind`), last.deadReason);
    say(`  caught up ${Date.now() - catchUpStart} ms after the stream ended (kill phase ${Math.round(killPhase / 1000)} s)`);
    const final = await current.kill("SIGTERM");
    report.check("final projector stops cleanly on SIGTERM", final.code === 0, `exit code ${final.code}, signal ${final.signal}`);
    current = undefined;

    report.count("synthetic events acknowledged", streamedCount);
    report.count("command events acknowledged", acknowledged.length);
    report.count("command errors", [...commandErrors].map(([c, n]) => `${c}:${n}`).join(",") || "0");
    const log = await readLog(scope);
    const fold = await foldLog(scope, log);
    logSummary(fold);
    report.count("log messages", log.length);
    report.check("every acknowledged event is in the log", log.length === streamedCount + acknowledged.length + 1 && acknowledged.every((id) => fold.eventIds.has(id)),
      `${log.length} messages = ${streamedCount} synthetic + ${acknowledged.length} command + 1 role`);
    report.check("no event id twice in the log", fold.duplicateIds === 0, `${fold.duplicateIds}`);
    compareWithFold(report, fold, await snapshotReadModel(scope));
    return report;
  } finally {
    await current?.kill("SIGKILL");
    await producer.disconnect().catch(() => {});
    await scope.close();
  }
}
