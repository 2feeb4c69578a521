/**
 * The one place where webhook delivery reads an event: a queued Kafka message
 * (as it is in the log) → the event envelope as the application reads it,
 * through the composition root's serde (upcast, validated). Payloads are built
 * from this at send time, never from raw bytes, so whatever rules the reading
 * path applies to personal data apply to what receivers get.
 */
import type { DecodeResult } from "@/lib/events/codec";
import { app, type DomainEvent } from "@/modules";

export interface QueuedMessage {
  /** The stream (topic without its prefix) the message was read from. */
  stream: string;
  key: string | null;
  value: Buffer | Uint8Array;
}

export function readEventForDelivery(message: QueuedMessage): DecodeResult<DomainEvent> {
  return app.serde.decode(Buffer.from(message.value), message.stream, message.key);
}
