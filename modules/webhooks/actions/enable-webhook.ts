"use server";
import { enableWebhook } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

export const enableWebhookAction = webhookAction("EnableWebhook", async (deps, id, actor) => {
  await enableWebhook(deps, id, actor);
  return {};
});
