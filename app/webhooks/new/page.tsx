import type { Metadata } from "next";
import { requirePage } from "@/lib/auth/guard";
import { Card, PageHeader } from "@/lib/ui/page-header";
import { webhookEventTypes } from "@/modules/webhooks/application/subscriptions";
import { CreateWebhookForm } from "@/modules/webhooks/ui/create-webhook-form";

export const metadata: Metadata = { title: "New webhook" };

export default async function NewWebhookPage() {
  await requirePage("webhooks:manage");
  return (
    <>
      <PageHeader title="New webhook" description="It receives the events written to the log from now on; replay it to send earlier ones." />
      <div className="max-w-2xl">
        <Card>
          <CreateWebhookForm eventTypes={webhookEventTypes()} />
        </Card>
      </div>
    </>
  );
}
