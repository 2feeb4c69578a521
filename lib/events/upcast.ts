/**
 * Upcasting: events are never rewritten in the log; an old schemaVersion is
 * brought up to the current one on read, one version step at a time.
 */
import type { z } from "zod";
import type { RawEnvelope } from "./envelope";

/** Turns a payload of version N into version N + 1. Pure. */
export type Upcaster = (payload: unknown) => unknown;

export interface EventTypeSpec {
  /** The logical stream (topic) the type belongs to. */
  stream: string;
  /** The version this code writes and understands. */
  schemaVersion: number;
  payload: z.ZodType;
  /** upcasters[n] turns version n into n + 1. */
  upcasters: Readonly<Record<number, Upcaster>>;
  /**
   * Payload fields holding personal data of the aggregate's person (sealed with their key:
   * lib/privacy), under every name they had in any version (found before upcasting).
   */
  personal?: readonly string[];
  /** The event records the erasure of its aggregate's person (lib/privacy/scrub.ts). */
  erasesPerson?: boolean;
}

export type EventRegistry = Readonly<Record<string, EventTypeSpec>>;

export class UnreadableEventError extends Error {
  override readonly name = "UnreadableEventError";
}

/** Returns the envelope at the type's current schemaVersion, or throws UnreadableEventError. */
export function upcast(envelope: RawEnvelope, registry: EventRegistry): RawEnvelope {
  const spec = registry[envelope.type];
  if (!spec) throw new UnreadableEventError(`unknown event type "${envelope.type}"`);
  if (envelope.schemaVersion > spec.schemaVersion) {
    throw new UnreadableEventError(
      `${envelope.type} v${envelope.schemaVersion} is newer than this code understands (v${spec.schemaVersion})`,
    );
  }
  let { payload } = envelope;
  for (let version = envelope.schemaVersion; version < spec.schemaVersion; version++) {
    const step = spec.upcasters[version];
    if (!step) {
      throw new UnreadableEventError(`no upcaster for ${envelope.type} v${version} → v${version + 1}`);
    }
    payload = step(payload);
  }
  return { ...envelope, schemaVersion: spec.schemaVersion, payload };
}
