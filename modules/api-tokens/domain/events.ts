/**
 * STORED SHAPES: payloads of the events on the `api-tokens` topic (key = token
 * id). Read back from the log forever: never edit a published shape (add an
 * optional field, or a version and an upcaster).
 *
 * An API token is an aggregate of its own: it is no user's (any admin holding
 * `tokens:manage` creates or revokes it, and its name is the actor of what it
 * does), so its history is its own stream. The actor of each event is who
 * created or revoked it. The secret and its digest never enter the log (they
 * stay in PostgreSQL's `api_tokens`). A token's name names a service, not a
 * person, so no field is declared personal.
 */
import { z } from "zod";
import { createSerde } from "@/lib/events/codec";
import type { Event } from "@/lib/events/envelope";
import { eventRegistry, type EventSpec } from "@/lib/module";
import { STREAM } from "@/modules/streams";

const token = { name: z.string().min(1).max(100), scope: z.enum(["read", "write"]) };

export const apiTokenPayloadSchemas = {
  ApiTokenCreated: z.object(token),
  /** Repeats the name and scope, so a revocation reads alone (and so does one of a token made before tokens had events). */
  ApiTokenRevoked: z.object(token),
} as const;

type Payloads = { [K in keyof typeof apiTokenPayloadSchemas]: z.infer<(typeof apiTokenPayloadSchemas)[K]> };

export type ApiTokenCreated = Event<"ApiTokenCreated", Payloads["ApiTokenCreated"]>;
export type ApiTokenRevoked = Event<"ApiTokenRevoked", Payloads["ApiTokenRevoked"]>;
export type ApiTokenEvent = ApiTokenCreated | ApiTokenRevoked;

const v1 = (payload: z.ZodType): EventSpec => ({ schemaVersion: 1, payload, upcasters: {}, personal: [] });

export const apiTokenEvents = {
  ApiTokenCreated: v1(apiTokenPayloadSchemas.ApiTokenCreated),
  ApiTokenRevoked: v1(apiTokenPayloadSchemas.ApiTokenRevoked),
} satisfies Record<ApiTokenEvent["type"], EventSpec>;

export const apiTokenSerde = createSerde<ApiTokenEvent>(eventRegistry(STREAM.apiTokens, apiTokenEvents));
