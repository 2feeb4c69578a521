import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { recentRebuilds } from "@/lib/projection/rebuild/rebuild-jobs";
import { topicName } from "@/lib/kafka/topics";
import { app } from "@/modules";
import { getKafkaConfig } from "@/lib/runtime";
import { PageHeader } from "@/lib/ui/page-header";
import { getHealthConfig, getKafkaAdmin } from "@/modules/operations/ops-runtime";
import { getHealth, rebuildGroup } from "@/modules/operations/read/health";
import { AutoRefresh } from "@/modules/operations/ui/auto-refresh";
import { HealthView } from "@/modules/operations/ui/health-view";
import { RebuildPanel } from "@/modules/operations/ui/rebuild-panel";
import { listWebhooks } from "@/modules/webhooks/read/webhooks";
import { WebhookLagTable } from "@/modules/webhooks/ui/webhook-tables";
import { getWebhooksConfig } from "@/modules/webhooks/webhooks-runtime";

export const metadata: Metadata = { title: "Health" };

export default async function HealthPage() {
  await requirePage("ops:manage"); // per request (reads the session), never prerendered
  const config = getKafkaConfig();
  const settings = getHealthConfig();
  const [health, rebuilds, webhooks] = await Promise.all([
    getHealth({
      db: getDb(),
      admin: getKafkaAdmin,
      group: config.PROJECTOR_GROUP_ID,
      topics: app.streams.map((s) => topicName(s, config)),
      // The webhooks' dispatcher is judged like a notifier: its instances, lag and stalled partitions.
      notifierGroups: [settings.NOTIFIER_EMAIL_GROUP_ID, settings.NOTIFIER_SLACK_GROUP_ID, getWebhooksConfig().WEBHOOKS_GROUP_ID],
      stallAfterMs: settings.PROJECTION_STALL_AFTER_MS,
    }),
    recentRebuilds(getDb(), config.PROJECTOR_GROUP_ID),
    listWebhooks(getDb()),
  ]);
  const active = rebuilds.find((r) => r.status === "requested" || r.status === "running");
  const replayGroup = active ? rebuildGroup(config.PROJECTOR_GROUP_ID, active.id) : null;
  return (
    <>
      <PageHeader
        title="Health"
        description="Where the projector is in each partition, what is stalled and why, which consumers are alive, and what is flowing."
        actions={<AutoRefresh seconds={active ? 2 : 5} checkedAt={health.checkedAt.toISOString()} />}
      />
      <HealthView health={health} rebuild={
          <RebuildPanel
            rebuilds={rebuilds}
            now={health.checkedAt}
            replayErrors={health.rebuildErrors.filter((e) => e.consumerGroup === replayGroup)}
            stallAfterMs={health.stallAfterMs}
          />
        } />
      {webhooks.length > 0 && (
        <section aria-labelledby="webhook-lag" className="mt-8 space-y-3">
          <h2 id="webhook-lag" className="text-base font-semibold text-zinc-900">Webhooks</h2>
          <WebhookLagTable webhooks={webhooks} />
        </section>
      )}
    </>
  );
}
