/**
 * Managing webhook subscriptions (server only). Each change is written with a
 * row in webhook_subscription_changes (who, what, when) in the same
 * transaction, so the history on a subscription's page is complete. Secrets
 * are generated here and returned once; only their sealed form is stored.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";
import type { Db } from "@/lib/db";
import { DomainError, invariant, notFound } from "@/lib/errors";
import { inTransaction } from "@/lib/command/execute";
import { parseInput } from "@/lib/command/validate";
import { envelopeSchema } from "@/lib/events/envelope";
import { app } from "@/modules";
import type { WebhooksConfig } from "../config";
import { newSigningSecret } from "../delivery/signature";
import { checkTarget, TargetRefusedError } from "../delivery/target-guard";
import { sealSecret } from "./secrets";

export interface WebhookDeps {
  db: Db;
  keys: KeyWrapper;
  config: Pick<WebhooksConfig, "WEBHOOKS_ALLOW_PRIVATE_TARGETS" | "WEBHOOKS_ROTATION_OVERLAP_MS">;
  now?: () => Date;
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** Every event type a subscription can select (the modules' registry). */
export const webhookEventTypes = (): string[] => Object.keys(app.registry).sort();

export const TEST_EVENT_TYPE = "WebhookTest";

export const createWebhookInput = z
  .object({
    url: z
      .string()
      .trim()
      .min(1, "Enter the URL to deliver to.")
      .max(2000, "At most 2,000 characters.")
      .pipe(z.url({ protocol: /^https?$/, error: "Enter an http:// or https:// URL." })),
    scope: z.enum(["all", "selected"], { error: "Choose all event types or a selection." }),
    eventTypes: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
    description: z.string().trim().max(500, "At most 500 characters.").default(""),
  })
  .superRefine((input, ctx) => {
    if (input.scope === "selected" && input.eventTypes.length === 0) {
      ctx.addIssue({ code: "custom", path: ["eventTypes"], message: "Choose at least one event type, or all of them." });
    }
    const known = new Set(webhookEventTypes());
    const unknown = input.eventTypes.filter((t) => !known.has(t));
    if (unknown.length) ctx.addIssue({ code: "custom", path: ["eventTypes"], message: `Unknown event type: ${unknown.join(", ")}.` });
  });

async function record(tx: Tx, subscriptionId: string, action: string, actor: string, detail = "") {
  await tx.webhookSubscriptionChange.create({ data: { subscriptionId, action, actor, detail } });
}

/** Creates an active subscription; answers its id and the secret, which is never shown again. */
export async function createWebhook(deps: WebhookDeps, input: unknown, actor: string): Promise<{ id: string; secret: string }> {
  const parsed = parseInput(createWebhookInput, input);
  await assertAllowedTarget(parsed.url, deps.config.WEBHOOKS_ALLOW_PRIVATE_TARGETS);
  const id = randomUUID();
  const secret = newSigningSecret();
  const eventTypes = parsed.scope === "all" ? [] : [...new Set(parsed.eventTypes)].sort();
  await inTransaction(deps.db, async (tx) => {
    await tx.webhookSubscription.create({
      data: {
        id,
        url: parsed.url,
        description: parsed.description,
        eventTypes,
        secretSealed: await sealSecret(deps.keys, id, secret.bytes),
        kekId: deps.keys.id,
        createdBy: actor,
        createdAt: deps.now?.() ?? new Date(),
      },
    });
    await record(tx, id, "created", actor, `${parsed.url}; ${eventTypes.length ? eventTypes.join(", ") : "all event types"}`);
  });
  return { id, secret: secret.text };
}

async function assertAllowedTarget(url: string, allowPrivate: boolean) {
  try {
    await checkTarget(new URL(url), allowPrivate);
  } catch (error) {
    if (!(error instanceof TargetRefusedError)) throw error;
    throw invariant(`This URL is refused: ${error.message}.`, { url: [error.message] });
  }
}

async function lockSubscription(tx: Tx, id: string) {
  const [row] = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM webhook_subscriptions WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw notFound("The webhook");
  return row;
}

export async function disableWebhook(deps: WebhookDeps, id: string, actor: string) {
  await inTransaction(deps.db, async (tx) => {
    const row = await lockSubscription(tx, id);
    if (row.status === "disabled") throw new DomainError("conflict", "This webhook is already disabled.");
    await tx.webhookSubscription.update({ where: { id }, data: { status: "disabled", disabledReason: `Disabled by ${actor}.` } });
    await record(tx, id, "disabled", actor);
  });
}

/** Enables it again; the failure clock starts over, and what is queued is retried at once. */
export async function enableWebhook(deps: WebhookDeps, id: string, actor: string) {
  await inTransaction(deps.db, async (tx) => {
    const row = await lockSubscription(tx, id);
    if (row.status === "active") throw new DomainError("conflict", "This webhook is already enabled.");
    await tx.webhookSubscription.update({ where: { id }, data: { status: "active", disabledReason: null, failingSince: null } });
    await tx.webhookDelivery.updateMany({ where: { subscriptionId: id }, data: { nextAttemptAt: deps.now?.() ?? new Date() } });
    await record(tx, id, "enabled", actor);
  });
}

/** A new secret; the previous one still signs (a second signature) for WEBHOOKS_ROTATION_OVERLAP_MS. */
export async function rotateWebhookSecret(deps: WebhookDeps, id: string, actor: string): Promise<{ secret: string; previousValidUntil: Date }> {
  const secret = newSigningSecret();
  const previousValidUntil = new Date((deps.now?.() ?? new Date()).getTime() + deps.config.WEBHOOKS_ROTATION_OVERLAP_MS);
  await inTransaction(deps.db, async (tx) => {
    await lockSubscription(tx, id);
    const current = await tx.webhookSubscription.findUniqueOrThrow({ where: { id }, select: { secretSealed: true } });
    await tx.webhookSubscription.update({
      where: { id },
      data: {
        secretSealed: await sealSecret(deps.keys, id, secret.bytes),
        kekId: deps.keys.id,
        previousSecretSealed: current.secretSealed,
        previousSecretExpiresAt: previousValidUntil,
      },
    });
    await record(tx, id, "secret rotated", actor, `previous secret valid until ${previousValidUntil.toISOString()}`);
  });
  return { secret: secret.text, previousValidUntil };
}

/** Deletes it with its queue and delivery log; its history of changes stays. */
export async function deleteWebhook(deps: WebhookDeps, id: string, actor: string) {
  await inTransaction(deps.db, async (tx) => {
    await lockSubscription(tx, id);
    const row = await tx.webhookSubscription.delete({ where: { id }, select: { url: true } });
    await record(tx, id, "deleted", actor, row.url);
  });
}

/** Queues a "WebhookTest" event for this subscription only (not in Kafka); the worker sends it like any other. */
export async function sendTestEvent(deps: WebhookDeps, id: string, actor: string): Promise<{ eventId: string }> {
  const eventId = randomUUID();
  const now = deps.now?.() ?? new Date();
  // The envelope every event has (lib/events/envelope.ts), so a receiver parses it like the others.
  const envelope = envelopeSchema.parse({
    id: eventId,
    type: TEST_EVENT_TYPE,
    schemaVersion: 1,
    aggregateId: id,
    sequence: 1,
    occurredAt: now.toISOString(),
    actor: { kind: "service", name: "admin-console" },
    correlationId: eventId,
    causationId: null,
    payload: { subscriptionId: id, message: "A test event sent from the admin console." },
  });
  await inTransaction(deps.db, async (tx) => {
    await lockSubscription(tx, id);
    await tx.webhookDelivery.create({
      data: {
        subscriptionId: id,
        eventId,
        eventType: TEST_EVENT_TYPE,
        aggregateId: `test:${eventId}`,
        messageValue: Buffer.from(JSON.stringify(envelope)),
      },
    });
    await record(tx, id, "test event sent", actor, eventId);
  });
  return { eventId };
}

export const replayInput = z.object({
  from: z.enum(["beginning", "time"], { error: "Choose the beginning of the log or a time." }),
  fromTime: z.string().optional(),
  /** The browser's offset from UTC in minutes (Date#getTimezoneOffset), for a datetime-local value. */
  tzOffset: z.coerce.number().int().min(-900).max(900).optional().catch(undefined),
});

/** Records a replay request; a webhooks worker runs it (README, Webhooks: Replay). */
export async function requestReplay(deps: WebhookDeps, id: string, input: unknown, actor: string): Promise<{ replayId: bigint }> {
  const parsed = parseInput(replayInput, input);
  let fromTime: Date | null = null;
  if (parsed.from === "time") {
    fromTime = parseLocalTime(parsed.fromTime ?? "", parsed.tzOffset ?? 0);
    if (!fromTime) throw new DomainError("validation", "Enter the time to replay from.", { fromTime: ["Enter a date and time."] });
    if (fromTime.getTime() > (deps.now?.() ?? new Date()).getTime()) {
      throw new DomainError("validation", "The time to replay from is in the future.", { fromTime: ["Choose a time in the past."] });
    }
  }
  return inTransaction(deps.db, async (tx) => {
    await lockSubscription(tx, id);
    const running = await tx.webhookReplay.findFirst({ where: { subscriptionId: id, status: { in: ["requested", "running"] } } });
    if (running) throw new DomainError("conflict", "A replay of this webhook is already under way.");
    const replay = await tx.webhookReplay.create({ data: { subscriptionId: id, fromTime, requestedBy: actor } });
    await record(tx, id, "replay requested", actor, fromTime ? `from ${fromTime.toISOString()}` : "from the beginning of the log");
    return { replayId: replay.id };
  });
}

/** "2026-11-30T17:05" as typed in a datetime-local field, read in the browser's zone; or an ISO time with its zone. */
export function parseLocalTime(value: string, tzOffsetMinutes: number): Date | null {
  const text = value.trim();
  if (!text) return null;
  const local = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (local) {
    const [, y, mo, d, h, mi, s] = local.map(Number) as number[];
    const utc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s || 0) + tzOffsetMinutes * 60_000;
    return Number.isNaN(utc) ? null : new Date(utc);
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) || !/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? null : new Date(parsed);
}
