/**
 * STORED SHAPES: payloads of the events on the `roles` topic (key = role id).
 * Never edit a published shape: add an optional field, or bump the type's
 * schemaVersion and register an upcaster in `roleEvents` below.
 */
import { z } from "zod";
import { createSerde } from "@/lib/events/codec";
import type { Event } from "@/lib/events/envelope";
import { eventRegistry, type EventSpec } from "@/lib/module";
import { STREAM } from "@/modules/streams";

export const roleNameSchema = z
  .string()
  .trim()
  .min(1, "Name is required.")
  .max(100, "Name must be at most 100 characters.");
export const roleDescriptionSchema = z
  .string()
  .trim()
  .max(1000, "Description must be at most 1000 characters.");

/**
 * A role's permissions, e.g. "users:write". Added after v1 as an optional field
 * (absent = none), so roles created before permissions existed still read.
 * Any "area:verb" string is accepted on read: a permission this version does
 * not know grants nothing here but must not dead-letter the event.
 */
export const rolePermissionsSchema = z
  .array(z.string().regex(/^[a-z][a-z-]*:[a-z][a-z-]*$/, "A permission looks like area:verb."))
  .max(50);

export const rolePayloadSchemas = {
  RoleCreated: z.object({
    name: roleNameSchema,
    description: roleDescriptionSchema,
    permissions: rolePermissionsSchema.optional(),
    /** Set on the roles every installation starts with (admin, viewer): their name and permissions are fixed. */
    builtIn: z.boolean().optional(),
  }),
  /** Only the fields that changed, with their new values (`permissions` as the whole new set). */
  RoleUpdated: z
    .object({
      name: roleNameSchema.optional(),
      description: roleDescriptionSchema.optional(),
      permissions: rolePermissionsSchema.optional(),
    })
    .refine(
      (p) => p.name !== undefined || p.description !== undefined || p.permissions !== undefined,
      "RoleUpdated changes nothing",
    ),
  /** Members lose the role through RoleUnassignedFromUser events (reason "role-deleted") published first. */
  RoleDeleted: z.object({}),
} as const;

type Payloads = { [K in keyof typeof rolePayloadSchemas]: z.infer<(typeof rolePayloadSchemas)[K]> };

export type RoleCreated = Event<"RoleCreated", Payloads["RoleCreated"]>;
export type RoleUpdated = Event<"RoleUpdated", Payloads["RoleUpdated"]>;
export type RoleDeleted = Event<"RoleDeleted", Payloads["RoleDeleted"]>;

export type RoleEvent = RoleCreated | RoleUpdated | RoleDeleted;
export type RoleEventType = RoleEvent["type"];

const v1 = (payload: z.ZodType): EventSpec => ({ schemaVersion: 1, payload, upcasters: {}, personal: [] });

/** Every event type of the `roles` stream: version, payload schema, upcasters, personal fields (none). */
export const roleEvents = {
  RoleCreated: v1(rolePayloadSchemas.RoleCreated),
  RoleUpdated: v1(rolePayloadSchemas.RoleUpdated),
  RoleDeleted: v1(rolePayloadSchemas.RoleDeleted),
} satisfies Record<RoleEventType, EventSpec>;

/** The serde (lib/events/codec.ts) over the role events alone. */
export const roleSerde = createSerde<RoleEvent>(eventRegistry(STREAM.roles, roleEvents));
