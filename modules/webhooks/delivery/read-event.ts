/**
 * The one place where webhook delivery reads an event: a queued Kafka message
 * (as it is in the log) → the event envelope as the application reads it,
 * through the composition root's serde (upcast, validated). Payloads are built
 * from this at send time, never from raw bytes, so whatever rules the reading
 * path applies to personal data apply to what receivers get: sealed fields are
 * revealed with the person's key, or "[erased]" once they are erased (lib/privacy).
 */
import type { DecodeResult } from "@/lib/events/codec";
import { NO_KEYS, type KeyRing } from "@/lib/privacy/personal-data";
import { app, type DomainEvent } from "@/modules";

export interface QueuedMessage {
  /** The stream (topic without its prefix) the message was read from. */
  stream: string;
  key: string | null;
  value: Buffer | Uint8Array;
}

/** `ring`: the keys of the message's personal data (without: sealed fields read "[erased]", enough to select). */
export function readEventForDelivery(message: QueuedMessage, ring: KeyRing = NO_KEYS): DecodeResult<DomainEvent> {
  return app.serde.decode(Buffer.from(message.value), message.stream, message.key, ring);
}
