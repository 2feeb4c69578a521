/**
 * Drill 3: a three-node KRaft cluster on loopback (each node broker+controller,
 * topics with replication factor 3 and min.insync.replicas 2). Under command
 * load, SIGKILL the broker that leads the users topic's first partition.
 * Nothing acknowledged may be lost and commands must keep succeeding.
 */
import { silentLogger } from "@/lib/log";
import { createProjector } from "@/lib/projection/projector";
import type { DrillEnv } from "./lib/context";
import { createScope, KafkaCluster } from "./lib/infra";
import { sharedPositions, startCommandLoad, summarize } from "./lib/load";
import { Report, say, sleep } from "./lib/util";
import { compareWithFold, foldLog, logSummary, readLog, snapshotReadModel, waitUntilCaughtUp } from "./lib/verify";
import { app } from "@/modules";

export async function clusterBrokerKillDrill(env: DrillEnv): Promise<Report> {
  const report = new Report();
  const cluster = await KafkaCluster.start("cluster3", 3);
  try {
    const scope = await createScope(env.postgres, cluster.brokers, "d3", { partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 }, (message) =>
      report.note(`ensureTopics failed right after creating the topics on the fresh cluster ("${message}"); a second call succeeded (finding: lib/kafka/topics.ts)`),
    );
    const projector = createProjector({ db: scope.db, config: scope.config, app, logger: silentLogger });
    try {
      const meta = await scope.admin.fetchTopicMetadata({ topics: [scope.topics.users] });
      const partitions = meta.topics[0]!.partitions;
      report.check("users topic: 3 replicas per partition, all in sync", partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3), `${partitions.length} partitions`);
      const configs = await scope.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: scope.topics.users, configNames: ["min.insync.replicas"] }] });
      const minIsr = configs.resources[0]?.configEntries.find((e) => e.configName === "min.insync.replicas")?.configValue;
      report.check("users topic: min.insync.replicas = 2", minIsr === "2", `${minIsr}`);
      await projector.start();

      const load = startCommandLoad(scope, env.rnd, 6, "d3");
      await sleep(env.opts.loadSeconds * 1000);
      const victim = partitions.find((p) => p.partitionId === 0)!.leader;
      const killAt = Date.now();
      const before = summarize(load.outcomes);
      say(`  SIGKILL node ${victim} (leader of ${scope.topics.users}/0) after ${load.outcomes.length} commands (${before.ok} ok)`);
      await cluster.killNode(victim);
      await sleep(Math.max(15, env.opts.loadSeconds * 2) * 1000);
      await load.stop();
      const end = Date.now();

      const afterKill = load.outcomes.filter((o) => o.startedAt >= killAt);
      const s = summarize(load.outcomes);
      const sAfter = summarize(afterKill);
      const lastTen = afterKill.filter((o) => o.ok && o.startedAt >= end - 10_000).length;
      report.count("commands", load.outcomes.length);
      report.count("succeeded before the kill", before.ok);
      report.count("succeeded after the kill", sAfter.ok);
      report.count("failed after the kill", sAfter.failed);
      report.count("failure codes", s.codes);
      report.count("succeeded in the last 10 s", lastTen);
      const firstOkAfter = afterKill.find((o) => o.ok && o.startedAt > killAt);
      if (firstOkAfter) report.count("first success after the kill (ms)", firstOkAfter.startedAt + firstOkAfter.ms - killAt);
      report.check("commands keep succeeding after the kill", sAfter.ok > 0 && lastTen > 0, `${sAfter.ok} after, ${lastTen} in the last 10 s`);

      const metaAfter = await scope.admin.fetchTopicMetadata({ topics: [scope.topics.users] });
      const p0 = metaAfter.topics[0]!.partitions.find((p) => p.partitionId === 0)!;
      report.count("users/0 leader after the kill", `${p0.leader} (isr ${p0.isr.join(",")})`);

      await waitUntilCaughtUp(scope, 180_000, (b) => say(`  projector ${b} behind`));
      const log = await readLog(scope);
      const fold = await foldLog(scope, log);
      logSummary(fold);
      const succeeded = load.outcomes.filter((o) => o.ok);
      const lost = succeeded.filter((o) => o.eventIds.some((id) => !fold.eventIds.has(id)));
      report.check("nothing acknowledged is lost (log read from the surviving brokers)", lost.length === 0, `${succeeded.length} acknowledged, ${lost.length} missing`);
      const shared = sharedPositions(load.outcomes);
      report.check("no two acknowledged events were given one log position", shared.length === 0, shared.slice(0, 5).join(", ") || "0");
      const failed = load.outcomes.filter((o) => !o.ok);
      const ambiguous = failed.filter((o) => fold.byCorrelation.has(o.correlationId));
      if (ambiguous.length) report.note(`${ambiguous.length} failed command(s) are in the log anyway (README "Failure windows": ack after the deadline)`);
      // After such an ambiguous failure the worker's next edit of that user is told of a conflict: right, since the event landed.
      const landedAnyway = new Set(ambiguous.map((o) => o.aggregateId));
      const wrongCode = failed.filter((o) => o.code !== "unavailable" && !(o.code === "conflict" && landedAnyway.has(o.aggregateId)));
      report.check('failed commands reported "unavailable" (or a conflict after one that landed anyway)', wrongCode.length === 0, wrongCode.slice(0, 3).map((o) => `${o.code}: ${o.message}`).join(" | ") || `${failed.length} failures`);
      report.check("no event id twice in the log", fold.duplicateIds === 0, `${fold.duplicateIds}`);
      compareWithFold(report, fold, await snapshotReadModel(scope));
      return report;
    } finally {
      await projector.stop().catch(() => {});
      await scope.close();
    }
  } finally {
    await cluster.stop();
  }
}
