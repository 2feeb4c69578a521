/**
 * The webhooks' settings (README, Configuration), parsed once with zod so a
 * wrong value fails at start with the variable's name.
 */
import { z } from "zod";

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const bool = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const schema = z.object({
  /** The dispatcher's consumer group (one for every subscription), also the key of its positions. */
  WEBHOOKS_GROUP_ID: z.string().min(1).default("webhooks"),
  /** Loopback, private and link-local targets are refused unless this is true (local use and tests). */
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: bool,
  /** Upper bound of one request: connect, send, response. */
  WEBHOOKS_TIMEOUT_MS: int(10_000, 100),
  /** At most this much of a response is read (the rest is dropped and the socket closed). */
  WEBHOOKS_RESPONSE_MAX_BYTES: int(64 * 1024, 1),
  /** Delay before the second attempt of a failed delivery; it doubles up to WEBHOOKS_RETRY_MAX_MS. */
  WEBHOOKS_RETRY_INITIAL_MS: int(5_000, 10),
  WEBHOOKS_RETRY_MAX_MS: int(10 * 60_000, 10),
  /** A subscription whose deliveries have failed for longer than this is disabled. */
  WEBHOOKS_DISABLE_AFTER_MS: int(24 * 3600_000, 1_000),
  /** After a rotation the previous secret still signs (a second signature) for this long. */
  WEBHOOKS_ROTATION_OVERLAP_MS: int(24 * 3600_000, 0),
  /** Requests in flight per subscription, per worker process (different aggregates only). */
  WEBHOOKS_CONCURRENCY_PER_SUBSCRIPTION: int(4, 1),
  /** Requests in flight per worker process. */
  WEBHOOKS_CONCURRENCY: int(64, 1),
  /** Attempts kept in each subscription's delivery log. */
  WEBHOOKS_LOG_KEEP: int(500, 10),
  /** The worker's /metrics port; 0 turns it off. */
  WEBHOOKS_METRICS_PORT: int(9474, 0),
});

export type WebhooksConfig = z.infer<typeof schema>;

export function webhooksConfig(env: Readonly<Record<string, string | undefined>> = process.env): WebhooksConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  return result.data;
}
