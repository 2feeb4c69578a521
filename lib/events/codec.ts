/**
 * The one serde: events to and from Kafka messages. A schema check on the way
 * out (a bug never reaches the log) and decode → upcast → validate on the way
 * in (another service's mistake goes to the dead-letter topic, with the
 * reason). The projector, the rebuild, the notifiers, the timeline and
 * activity reads and the exports all read events through it; the registry
 * comes from the modules' definitions (lib/module.ts, modules/index.ts).
 */
import { z } from "zod";
import { ERASED, NO_KEYS, personalSubjects, revealEnvelope, sealEnvelope, type KeyRing, type WriteKey } from "@/lib/privacy/personal-data";
import { envelopeSchema, type AnyEvent, type RawEnvelope } from "./envelope";
import { UnreadableEventError, upcast, type EventRegistry } from "./upcast";

export const EVENT_TYPE_HEADER = "type";
export const SCHEMA_VERSION_HEADER = "schemaVersion";

export interface EncodedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

export type DecodeResult<E extends AnyEvent = AnyEvent> =
  | {
      ok: true;
      event: E;
      /** People whose personal data the message carries in clear (not sealed: lib/privacy). */
      clearSubjects?: string[];
    }
  | { ok: false; reason: string };

export interface Serde<E extends AnyEvent = AnyEvent> {
  readonly registry: EventRegistry;
  /**
   * Validates and serializes an event. Throws on an invalid event: that is a bug, not input.
   * With `keys` (each person's data key), the personal fields are sealed (lib/privacy).
   */
  encode(event: E, keys?: (subject: string) => WriteKey): EncodedMessage;
  /**
   * Parses a message read from `stream`. Never throws: an unreadable message is a result with the
   * reason. Sealed personal data is revealed with `ring`'s keys, or reads as ERASED without them.
   */
  decode(value: Buffer | string | null, stream: string, key?: string | null, ring?: KeyRing): DecodeResult<E>;
  /** Upcasts and validates an envelope already parsed and revealed (e.g. a timeline row's), or says why it cannot. */
  read(envelope: unknown, stream?: string): DecodeResult<E>;
  /** The people whose personal data an event carries (the keys its encoding needs). */
  personalSubjects(event: E): string[];
  /** The stream (topic before its prefix) of an event type. */
  streamOf(type: E["type"]): string;
  /** The schemaVersion this code writes for a type. */
  schemaVersion(type: E["type"]): number;
}

const describeIssues = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");

/** The serde of the events in `registry`; `E` is the union of their types (the registry ties each to its schema). */
export function createSerde<E extends AnyEvent = AnyEvent>(registry: EventRegistry): Serde<E> {
  const specOf = (type: string) => {
    const spec = registry[type];
    if (!spec) throw new Error(`unknown event type ${type}`);
    return spec;
  };
  const personalOf = (type: unknown) => (typeof type === "string" ? (registry[type]?.personal ?? []) : []);
  /** The payload schema, letting a personal field hold ERASED (a person's data after erasure). */
  const readSchemas = new Map<string, z.ZodType>();
  const payloadSchema = (type: string, payload: unknown): z.ZodType => {
    const spec = registry[type]!;
    const personal = spec.personal ?? [];
    const erased = personal.some((f) => (payload as Record<string, unknown> | null)?.[f] === ERASED);
    if (!erased || !(spec.payload instanceof z.ZodObject)) return spec.payload;
    let schema = readSchemas.get(type);
    if (!schema) {
      const shape = spec.payload.shape as Record<string, z.ZodType>;
      schema = z.object({
        ...shape,
        ...Object.fromEntries(personal.filter((f) => shape[f]).map((f) => [f, z.union([z.literal(ERASED), shape[f]!])])),
      });
      readSchemas.set(type, schema);
    }
    return schema;
  };
  const read = (json: unknown, stream?: string, key?: string | null): DecodeResult<E> => {
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
    if (stream !== undefined && spec.stream !== stream) {
      return { ok: false, reason: `${current.type} belongs on the ${spec.stream} topic, not ${stream}` };
    }
    if (key != null && key !== current.aggregateId) {
      return { ok: false, reason: `message key ${key} differs from aggregateId ${current.aggregateId}` };
    }
    const payload = payloadSchema(current.type, current.payload).safeParse(current.payload);
    if (!payload.success) {
      return { ok: false, reason: `invalid ${current.type} payload: ${describeIssues(payload.error)}` };
    }
    // The registry ties each type to its payload schema, so this is the typed event.
    return { ok: true, event: { ...current, payload: payload.data } as E };
  };
  return {
    registry,
    encode(event, keys) {
      const envelope = envelopeSchema.parse(event);
      const spec = specOf(event.type);
      spec.payload.parse(event.payload);
      return {
        key: envelope.aggregateId,
        value: JSON.stringify(keys ? sealEnvelope(envelope, spec.personal ?? [], keys) : envelope),
        headers: {
          [EVENT_TYPE_HEADER]: envelope.type,
          [SCHEMA_VERSION_HEADER]: String(envelope.schemaVersion),
          correlationId: envelope.correlationId,
        },
      };
    },
    decode(value, stream, key, ring = NO_KEYS) {
      if (value === null || value.length === 0) return { ok: false, reason: "empty message (tombstone?)" };
      let json: unknown;
      try {
        json = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
      } catch (error) {
        return { ok: false, reason: `not JSON: ${(error as Error).message}` };
      }
      if (!json || typeof json !== "object" || Array.isArray(json)) return { ok: false, reason: "invalid envelope: not an object" };
      const revealed = revealEnvelope(json as Record<string, unknown>, personalOf((json as { type?: unknown }).type), ring);
      if (!revealed.ok) return revealed;
      const read1 = read(revealed.envelope, stream, key);
      const result: DecodeResult<E> =
        read1.ok && revealed.clearSubjects.length ? { ...read1, clearSubjects: revealed.clearSubjects } : read1;
      // JSON.parse only makes these out of \u escapes: look only when the message has one.
      if (result.ok && value.includes("\\u")) {
        const bad = unstorableText(result.event);
        if (bad) return { ok: false, reason: bad };
      }
      return result;
    },
    read: (envelope, stream) => read(envelope, stream),
    personalSubjects: (event) => personalSubjects(event, personalOf(event.type)),
    streamOf: (type) => specOf(type).stream,
    schemaVersion: (type) => specOf(type).schemaVersion,
  };
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
