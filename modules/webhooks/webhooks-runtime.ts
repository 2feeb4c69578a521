/** The console's webhook dependencies (server only), created on first use from the environment. */
import { keyWrapperFromEnv, type KeyWrapper } from "@/lib/crypto/key-wrapper";
import { getDb } from "@/lib/db";
import type { WebhookDeps } from "./application/subscriptions";
import { webhooksConfig, type WebhooksConfig } from "./config";

let keys: KeyWrapper | undefined;
let config: WebhooksConfig | undefined;

export function getWebhooksConfig(): WebhooksConfig {
  return (config ??= webhooksConfig());
}

export function getWebhookDeps(): WebhookDeps {
  keys ??= keyWrapperFromEnv();
  return { db: getDb(), keys, config: getWebhooksConfig() };
}
