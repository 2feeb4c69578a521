import type { Metadata } from "next";
import Link from "next/link";
import { requirePage } from "@/lib/auth/guard";
import { getDb } from "@/lib/db";
import { PageHeader } from "@/lib/ui/page-header";
import { buttonClass } from "@/lib/ui/styles";
import { listWebhooks } from "@/modules/webhooks/read/webhooks";
import { WebhookList } from "@/modules/webhooks/ui/webhook-tables";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  await requirePage("webhooks:manage");
  const webhooks = await listWebhooks(getDb());
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Other systems receive the events as signed HTTP POSTs (Standard Webhooks), each aggregate's in order, replayable from any point of the log."
        actions={
          <Link href="/webhooks/new" className={buttonClass("primary")}>
            New webhook
          </Link>
        }
      />
      <WebhookList webhooks={webhooks} />
    </>
  );
}
