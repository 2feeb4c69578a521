"use server";
import { deleteWebhook } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

export const deleteWebhookAction = webhookAction(
  "DeleteWebhook",
  async (deps, id, actor) => {
    await deleteWebhook(deps, id, actor);
    return {};
  },
  { redirectToList: true },
);
