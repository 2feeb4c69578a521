/**
 * What the actions on one webhook share (server only): `webhooks:manage`, the
 * webhook's id as input, the admin's email as the actor of the recorded
 * change, and the pages to refresh.
 */
import { z } from "zod";
import { defineAction } from "@/lib/actions/safe-action";
import type { WebhookDeps } from "../application/subscriptions";
import { webhookHref } from "../read/webhooks";
import { getWebhookDeps } from "../webhooks-runtime";

const webhookInput = z.object({ id: z.uuid("not a webhook id") }).loose();

export function webhookAction<Out extends object>(
  name: string,
  operation: (deps: WebhookDeps, id: string, actor: string, input: Record<string, unknown>) => Promise<Out>,
  options: { redirectToList?: boolean } = {},
) {
  return defineAction({
    name,
    access: "webhooks:manage",
    input: webhookInput,
    invalidInput: "That is not a webhook this console knows.",
    run: ({ id, ...rest }, { user }) => operation(getWebhookDeps(), id, user.email, rest),
    revalidate: (_value, { id }) => ["/webhooks", webhookHref(id), "/health"],
    revalidateOnRefusal: ["/webhooks"],
    ...(options.redirectToList ? { redirect: () => "/webhooks" } : {}),
  });
}
