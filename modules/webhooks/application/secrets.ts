/**
 * Signing secrets at rest: wrapped by the key-encryption key (lib/crypto/key-wrapper.ts,
 * DATA_KEY_ENCRYPTION_KEY) and bound to their subscription (the context), so a sealed
 * secret copied to another row does not open. They exist in clear only in the
 * console's answer to the admin who created or rotated them, and in the worker's
 * memory while it signs; never in Kafka, never in a log line.
 */
import type { KeyWrapper } from "@/lib/crypto/key-wrapper";

const context = (subscriptionId: string) => `webhook-secret:${subscriptionId}`;

export const sealSecret = (keys: KeyWrapper, subscriptionId: string, secret: Buffer) => keys.wrap(secret, context(subscriptionId));
export const openSecret = (keys: KeyWrapper, subscriptionId: string, sealed: string) => keys.unwrap(sealed, context(subscriptionId));
