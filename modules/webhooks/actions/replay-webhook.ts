"use server";
import { requestReplay } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

export const replayWebhookAction = webhookAction("ReplayWebhook", async (deps, id, actor, input) => {
  const { replayId } = await requestReplay(deps, id, input, actor);
  return { replayId: String(replayId) };
});
