/** What the webhook pages and the health page read (server only). */
import type { Db } from "@/lib/db";

export interface WebhookSummary {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  status: "active" | "disabled";
  disabledReason: string | null;
  /** Disabled by the dispatcher itself (failing for too long), not by an admin. */
  autoDisabled: boolean;
  failingSince: Date | null;
  lastError: string | null;
  createdAt: Date;
  createdBy: string;
  /** Events queued and not yet delivered: the subscription's lag. */
  queued: number;
  oldestQueuedAt: Date | null;
  lastAttemptAt: Date | null;
  lastAttemptOk: boolean | null;
}

interface Row {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  status: string;
  disabled_reason: string | null;
  auto_disabled: boolean;
  failing_since: Date | null;
  last_error: string | null;
  created_at: Date;
  created_by: string;
  queued: number;
  oldest_queued_at: Date | null;
  last_attempt_at: Date | null;
  last_attempt_ok: boolean | null;
}

async function summaries(db: Db, id: string | null): Promise<WebhookSummary[]> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT s.id::text, s.url, s.description, s.event_types, s.status, s.disabled_reason, s.failing_since, s.last_error,
      s.created_at, s.created_by,
      EXISTS (SELECT 1 FROM webhook_subscription_changes c WHERE c.subscription_id = s.id AND c.action = 'disabled'
        AND c.actor = 'system' AND s.status = 'disabled'
        AND c.id = (SELECT max(id) FROM webhook_subscription_changes WHERE subscription_id = s.id AND action IN ('disabled', 'enabled'))) AS auto_disabled,
      (SELECT count(*)::int FROM webhook_deliveries d WHERE d.subscription_id = s.id) AS queued,
      (SELECT min(enqueued_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id) AS oldest_queued_at,
      a.at AS last_attempt_at, a.ok AS last_attempt_ok
    FROM webhook_subscriptions s
    LEFT JOIN LATERAL (SELECT at, ok FROM webhook_attempts WHERE subscription_id = s.id ORDER BY id DESC LIMIT 1) a ON true
    WHERE ${id}::uuid IS NULL OR s.id = ${id}::uuid
    ORDER BY s.created_at DESC, s.id`;
  return rows.map((r) => ({
    id: r.id,
    url: r.url,
    description: r.description,
    eventTypes: r.event_types,
    status: r.status === "disabled" ? "disabled" : "active",
    disabledReason: r.disabled_reason,
    autoDisabled: r.auto_disabled,
    failingSince: r.failing_since,
    lastError: r.last_error,
    createdAt: r.created_at,
    createdBy: r.created_by,
    queued: r.queued,
    oldestQueuedAt: r.oldest_queued_at,
    lastAttemptAt: r.last_attempt_at,
    lastAttemptOk: r.last_attempt_ok,
  }));
}

export const listWebhooks = (db: Db) => summaries(db, null);

export async function getWebhook(db: Db, id: string): Promise<WebhookSummary | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return (await summaries(db, id))[0] ?? null;
}

export const recentAttempts = (db: Db, subscriptionId: string, take = 50) =>
  db.webhookAttempt.findMany({ where: { subscriptionId }, orderBy: { id: "desc" }, take });

export const webhookChanges = (db: Db, subscriptionId: string) =>
  db.webhookSubscriptionChange.findMany({ where: { subscriptionId }, orderBy: { id: "desc" }, take: 100 });

export const webhookReplays = (db: Db, subscriptionId: string) =>
  db.webhookReplay.findMany({ where: { subscriptionId }, orderBy: { id: "desc" }, take: 10 });

export const webhookHref = (id: string) => `/webhooks/${id}`;
