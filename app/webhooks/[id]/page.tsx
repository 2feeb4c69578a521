import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requirePage } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { formatDateTime } from "@/lib/ui/format";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { AutoRefresh } from "@/modules/operations/ui/auto-refresh";
import { getWebhook, recentAttempts, webhookChanges, webhookReplays } from "@/modules/webhooks/read/webhooks";
import { ReplayForm, WebhookControls } from "@/modules/webhooks/ui/webhook-controls";
import { ChangeHistory, DeliveryLog, eventTypesLabel, ReplayList, StatusBadge } from "@/modules/webhooks/ui/webhook-tables";

export const metadata: Metadata = { title: "Webhook" };

export default async function WebhookPage({ params }: { params: Promise<{ id: string }> }) {
  await requirePage("webhooks:manage");
  const { id } = await params;
  const db = getDb();
  const webhook = await getWebhook(db, id);
  if (!webhook) notFound();
  const [attempts, changes, replays] = await Promise.all([recentAttempts(db, id), webhookChanges(db, id), webhookReplays(db, id)]);
  const replaying = replays.some((r) => r.status === "requested" || r.status === "running");
  return (
    <>
      <PageHeader
        title={<span className="break-all">{webhook.url}</span>}
        description={webhook.description || undefined}
        actions={<AutoRefresh seconds={2} checkedAt={new Date().toISOString()} />}
      >
        <p className="flex flex-wrap items-center gap-2 text-sm text-zinc-600">
          <StatusBadge webhook={webhook} /> {eventTypesLabel(webhook.eventTypes)} · {webhook.queued.toLocaleString("en-US")} queued · created{" "}
          {formatDateTime(webhook.createdAt)} by {webhook.createdBy}
        </p>
      </PageHeader>
      <div className="space-y-6">
        {webhook.status === "disabled" && webhook.disabledReason && (
          <p role="alert" className="rounded-md bg-red-50 px-4 py-3 text-sm text-red-800 ring-1 ring-red-200">
            {webhook.disabledReason}
          </p>
        )}
        {webhook.status === "active" && webhook.failingSince && (
          <p role="status" className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 ring-1 ring-amber-200">
            Failing since {formatDateTime(webhook.failingSince)}: {webhook.lastError}. Retried with backoff; disabled automatically if
            it goes on.
          </p>
        )}
        <Card>
          <WebhookControls id={webhook.id} status={webhook.status} />
        </Card>
        <Card title="Replay from" id="replay">
          <ReplayForm id={webhook.id} busy={replaying} />
          <ReplayList replays={replays} />
        </Card>
        <section aria-labelledby="delivery-log" className="space-y-3">
          <h2 id="delivery-log" className="text-base font-semibold text-zinc-900">
            Delivery log <span className="text-sm font-normal text-zinc-500">(latest first)</span>
          </h2>
          <DeliveryLog attempts={attempts} />
        </section>
        <section aria-labelledby="history" className="space-y-3">
          <h2 id="history" className="text-base font-semibold text-zinc-900">
            History
          </h2>
          <ChangeHistory changes={changes} />
        </section>
      </div>
    </>
  );
}
