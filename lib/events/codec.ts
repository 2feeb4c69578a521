/**
 * Serialization of events to and from Kafka messages. A schema check on the way
 * out (a bug never reaches the log) and on the way in (another service's
 * mistake goes to the dead-letter topic, with the reason).
 */
import { z } from "zod";
import { envelopeSchema, type RawEnvelope } from "./envelope";
import { eventRegistry, type DomainEvent, type StreamName } from "./registry";
import { UnreadableEventError, upcast, type EventRegistry } from "./upcast";

export const EVENT_TYPE_HEADER = "type";
export const SCHEMA_VERSION_HEADER = "schemaVersion";

export interface EncodedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Validates and serializes an event. Throws on an invalid event: that is a bug, not input. */
export function encodeEvent(event: DomainEvent): EncodedMessage {
  const envelope = envelopeSchema.parse(event);
  const spec = (eventRegistry as EventRegistry)[event.type];
  if (!spec) throw new Error(`unknown event type ${event.type}`);
  spec.payload.parse(event.payload);
  return {
    key: envelope.aggregateId,
    value: JSON.stringify(envelope),
    headers: {
      [EVENT_TYPE_HEADER]: envelope.type,
      [SCHEMA_VERSION_HEADER]: String(envelope.schemaVersion),
      correlationId: envelope.correlationId,
    },
  };
}

export type DecodeResult = { ok: true; event: DomainEvent } | { ok: false; reason: string };

const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");

/**
 * Parses a message read from `stream`. Never throws: an unreadable message is a
 * result with the reason, for the dead-letter topic.
 */
export function decodeEvent(
  value: Buffer | string | null,
  stream: StreamName,
  key?: string | null,
  registry: EventRegistry = eventRegistry,
): DecodeResult {
  if (value === null || value.length === 0) return { ok: false, reason: "empty message (tombstone?)" };
  let json: unknown;
  try {
    json = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `invalid envelope: ${describeIssues(envelope.error)}` };
  let current: RawEnvelope;
  try {
    current = upcast(envelope.data, registry);
  } catch (error) {
    if (error instanceof UnreadableEventError) return { ok: false, reason: error.message };
    throw error;
  }
  const spec = registry[current.type];
  if (!spec) return { ok: false, reason: `unknown event type "${current.type}"` };
  if (spec.stream !== stream) {
    return { ok: false, reason: `${current.type} belongs on the ${spec.stream} topic, not ${stream}` };
  }
  if (key != null && key !== current.aggregateId) {
    return { ok: false, reason: `message key ${key} differs from aggregateId ${current.aggregateId}` };
  }
  const payload = spec.payload.safeParse(current.payload);
  if (!payload.success) {
    return { ok: false, reason: `invalid ${current.type} payload: ${describeIssues(payload.error)}` };
  }
  const event = { ...current, payload: payload.data } as DomainEvent;
  // JSON.parse only makes these out of \u escapes: look only when the message has one.
  if (value.includes("\\u")) {
    const bad = unstorableText(event);
    if (bad) return { ok: false, reason: bad };
  }
  // The registry ties each type to its payload schema, so this is the typed event.
  return { ok: true, event };
}

/** Half of a UTF-16 surrogate pair, alone. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text that is valid JSON but that PostgreSQL cannot store (text and jsonb refuse U+0000; jsonb
 * refuses a lone surrogate, which JSON.stringify writes as a \udXXX escape): applied, such an
 * event would fail its batch on every retry and stop its partition for good. Returns the reason.
 */
function unstorableText(value: unknown): string | null {
  if (typeof value === "string") {
    if (value.includes("\u0000")) return "contains U+0000 (NUL), which PostgreSQL text/jsonb cannot store";
    LONE_SURROGATE.lastIndex = 0;
    if (LONE_SURROGATE.test(value)) return "contains half of a UTF-16 surrogate pair, which is not Unicode text and PostgreSQL jsonb cannot store";
    return null;
  }
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) {
      const bad = unstorableText(v);
      if (bad) return bad;
    }
  }
  return null;
}
