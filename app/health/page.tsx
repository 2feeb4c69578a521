import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { recentRebuilds } from "@/lib/projection/rebuild/rebuild-jobs";
import { STREAMS, topicName } from "@/lib/kafka/topics";
import { getKafkaConfig } from "@/lib/runtime";
import { PageHeader } from "@/lib/ui/page-header";
import { getKafkaAdmin } from "@/modules/operations/ops-runtime";
import { getHealth } from "@/modules/operations/read/health";
import { AutoRefresh } from "@/modules/operations/ui/auto-refresh";
import { HealthView } from "@/modules/operations/ui/health-view";
import { RebuildPanel } from "@/modules/operations/ui/rebuild-panel";

export const metadata: Metadata = { title: "Health" };

export default async function HealthPage() {
  await requirePage("ops:manage"); // per request (reads the session), never prerendered
  const config = getKafkaConfig();
  const [health, rebuilds] = await Promise.all([
    getHealth({
      db: getDb(),
      admin: getKafkaAdmin,
      group: config.PROJECTOR_GROUP_ID,
      topics: STREAMS.map((s) => topicName(s, config)),
    }),
    recentRebuilds(getDb(), config.PROJECTOR_GROUP_ID),
  ]);
  const rebuilding = rebuilds.some((r) => r.status === "requested" || r.status === "running");
  return (
    <>
      <PageHeader
        title="Health"
        description="Where the projector is in each partition, which projector processes are alive, and what is flowing."
        actions={<AutoRefresh seconds={rebuilding ? 2 : 5} checkedAt={health.checkedAt.toISOString()} />}
      />
      <HealthView health={health} rebuild={<RebuildPanel rebuilds={rebuilds} now={health.checkedAt} />} />
    </>
  );
}
