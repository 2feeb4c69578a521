"use server";
import { rotateWebhookSecret } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

/** A new secret, in this one answer; the previous one still signs for WEBHOOKS_ROTATION_OVERLAP_MS. */
export const rotateWebhookSecretAction = webhookAction("RotateWebhookSecret", async (deps, id, actor) => {
  const { secret, previousValidUntil } = await rotateWebhookSecret(deps, id, actor);
  return { secret, previousValidUntil: previousValidUntil.toISOString() };
});
