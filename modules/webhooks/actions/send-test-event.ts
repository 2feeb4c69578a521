"use server";
import { sendTestEvent } from "../application/subscriptions";
import { webhookAction } from "./webhook-action";

export const sendTestEventAction = webhookAction("SendWebhookTestEvent", (deps, id, actor) => sendTestEvent(deps, id, actor));
