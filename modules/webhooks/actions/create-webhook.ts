"use server";
import { defineAction } from "@/lib/actions/safe-action";
import { createWebhook, createWebhookInput } from "../application/subscriptions";
import { getWebhookDeps } from "../webhooks-runtime";

/** Creates a webhook; its signing secret is in this one answer and never shown again. */
export const createWebhookAction = defineAction({
  name: "CreateWebhook",
  access: "webhooks:manage",
  input: createWebhookInput,
  keep: ["url", "description", "scope"],
  run: async (input, { user }) => ({ webhook: await createWebhook(getWebhookDeps(), input, user.email) }),
  revalidate: ["/webhooks"],
});
