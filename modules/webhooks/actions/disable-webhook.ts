"use server";
import { disableWebhook } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

export const disableWebhookAction = webhookAction("DisableWebhook", async (deps, id, actor) => {
  await disableWebhook(deps, id, actor);
  return {};
});
