/**
 * Drill 6: races through the application layer, on one connection pool as a
 * console process would have. (a) N concurrent creates with one email →
 * exactly one user; (b) M concurrent edits from the same version → exactly one
 * applied, the rest told of the conflict ("conflict"). Checked in the command
 * results, in the log and in the read model.
 */
import { randomUUID } from "node:crypto";
import { silentLogger } from "@/lib/log";
import { createProjector } from "@/lib/projection/projector";
import { createUser, updateUser } from "@/modules/users/application/user-commands";
import type { DrillEnv } from "./lib/context";
import { createScope } from "./lib/infra";
import { errorCode, Report, say } from "./lib/util";
import { compareWithFold, foldLog, readLog, snapshotReadModel, waitUntilCaughtUp } from "./lib/verify";
import { app } from "@/modules";

export async function racesDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const { opts } = env;
  const kafka = await env.kafka();
  const scope = await createScope(env.postgres, kafka.brokers, "d6", { partitions: 6 });
  const projector = createProjector({ db: scope.db, config: scope.config, app, logger: silentLogger });
  try {
    await projector.start();
    const tally = (results: PromiseSettledResult<unknown>[]) => {
      const m = new Map<string, number>();
      for (const r of results) {
        const k = r.status === "fulfilled" ? "ok" : errorCode(r.reason);
        m.set(k, (m.get(k) ?? 0) + 1);
      }
      return m;
    };
    const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}:${v}`).join(",");
    const winners: Array<{ email: string; userId: string; editWinner: string; version: number }> = [];
    let createsOk = true;
    let editsOk = true;
    const createTallies: string[] = [];
    const editTallies: string[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const email = `race-${round}-${randomUUID().slice(0, 8)}@drill.example`;
      const creates = await Promise.allSettled(
        Array.from({ length: opts.creates }, (_, i) => createUser(scope.deps, { ...scope.ctx, correlationId: `d6-create-${round}-${i}` }, { email, name: `Racer ${i}` })),
      );
      const ct = tally(creates);
      createTallies.push(fmt(ct));
      const winner = creates.find((r) => r.status === "fulfilled");
      const roundCreatesOk = ct.get("ok") === 1 && ct.get("invariant") === opts.creates - 1;
      createsOk &&= roundCreatesOk;
      say(`  round ${round}: ${opts.creates} creates of ${email}: ${fmt(ct)}`);
      if (!winner) continue;
      const userId = (winner as PromiseFulfilledResult<Awaited<ReturnType<typeof createUser>>>).value.aggregateId;
      const version = 1;
      const edits = await Promise.allSettled(
        Array.from({ length: opts.edits }, (_, i) =>
          updateUser(scope.deps, { ...scope.ctx, correlationId: `d6-edit-${round}-${i}` }, { userId, expectedVersion: version, name: `Editor ${i}` }),
        ),
      );
      const et = tally(edits);
      editTallies.push(fmt(et));
      const roundEditsOk = et.get("ok") === 1 && et.get("conflict") === opts.edits - 1;
      editsOk &&= roundEditsOk;
      const wi = edits.findIndex((r) => r.status === "fulfilled");
      say(`  round ${round}: ${opts.edits} edits from version ${version}: ${fmt(et)}`);
      if (!roundEditsOk) {
        const other = edits.find((r) => r.status === "rejected" && errorCode(r.reason) !== "conflict") as PromiseRejectedResult | undefined;
        if (other) say(`    e.g. ${errorCode(other.reason)}: ${String((other.reason as Error).message).slice(0, 200)}`);
      }
      winners.push({ email, userId, editWinner: `Editor ${wi}`, version: version + 1 });
    }
    report.count("rounds", opts.rounds);
    report.count("creates per round", `${opts.creates} → ${createTallies.join(" / ")}`);
    report.count("edits per round", `${opts.edits} → ${editTallies.join(" / ")}`);
    report.check(`${opts.creates} concurrent creates with one email → exactly one user (the rest "invariant")`, createsOk, createTallies.join(" / "));
    report.check(`${opts.edits} concurrent edits from one version → exactly one applied (the rest "conflict")`, editsOk, editTallies.join(" / "));

    await waitUntilCaughtUp(scope, 120_000);
    const log = await readLog(scope);
    const fold = await foldLog(scope, log);
    const rm = await snapshotReadModel(scope);
    let logOk = true;
    let rmOk = true;
    for (const w of winners) {
      const created = [...fold.users.values()].filter((u) => u.email.toLowerCase() === w.email);
      const updates = fold.userTimeline.filter((l) => l.split("|")[1] === w.userId && l.split("|")[3] === "UserUpdated").length;
      logOk &&= created.length === 1 && updates === 1 && created[0]!.name === w.editWinner;
      const rows = rm.users.filter((l) => l.split("|")[1]!.toLowerCase() === w.email);
      rmOk &&= rows.length === 1 && rows[0]!.split("|")[2] === w.editWinner && rows[0]!.split("|")[4] === String(w.version);
    }
    report.check("log: one UserCreated per email, one UserUpdated per race, the winner's name", logOk, `${log.length} messages`);
    report.check("read model: one user per email, at version 2 with the winner's name", rmOk, `${rm.users.length} users`);
    compareWithFold(report, fold, rm);
    return report;
  } finally {
    await projector.stop().catch(() => {});
    await scope.close();
  }
}
