/**
 * STORED SHAPE. The event envelope is written to Kafka, the system of record,
 * and read back for as long as the log lives. Never change a published shape:
 * add a field as optional, or add a schemaVersion and an upcaster
 * (lib/events/upcast.ts).
 */
import { z } from "zod";

export const actorSchema = z.discriminatedUnion("kind", [
  /** An administrator acting through the console or the API. */
  z.object({
    kind: z.literal("user"),
    userId: z.uuid(),
    email: z.string().min(1),
    name: z.string().optional(),
  }),
  /** Another service publishing to the shared log (auth service, importer, ...). */
  z.object({
    kind: z.literal("service"),
    name: z.string().min(1).max(200),
  }),
]);
export type Actor = z.infer<typeof actorSchema>;

/** The envelope as it travels on the wire; `payload` is checked per type afterwards. */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  aggregateId: z.uuid(),
  sequence: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  actor: actorSchema,
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  payload: z.unknown(),
});
export type RawEnvelope = z.infer<typeof envelopeSchema>;

/** Everything in an envelope except what identifies the event's kind and body. */
export type EventMeta = Omit<RawEnvelope, "type" | "schemaVersion" | "payload">;

/** A typed event: envelope metadata plus a discriminating type and its payload. */
export type Event<TType extends string, TPayload> = EventMeta & {
  type: TType;
  schemaVersion: number;
  payload: TPayload;
};

/** An event whose type and payload the framework does not know (lib/ never names a module's events). */
export type AnyEvent = Event<string, unknown>;

/** What `decide` returns: the event's kind and body; the application layer adds the envelope. */
export type NewEvent<E extends { type: string; payload: unknown }> = E extends unknown
  ? { type: E["type"]; payload: E["payload"] }
  : never;
