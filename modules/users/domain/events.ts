/**
 * STORED SHAPES: payloads of the events on the `users` topic (key = user id).
 * These are read back from the log forever. Never edit a published shape: add
 * an optional field, or bump the type's schemaVersion and register an upcaster
 * in `userEvents` below.
 *
 * Personal data (email, name, ip, userAgent) is declared per type below: it is
 * sealed with the person's key before it leaves the command side, and reads as
 * "[erased]" once the person is erased (lib/privacy). Secrets (password hashes,
 * tokens) never enter the log.
 */
import { z } from "zod";
import { createSerde } from "@/lib/events/codec";
import type { Event } from "@/lib/events/envelope";
import { eventRegistry, type EventSpec } from "@/lib/module";
import { STREAM } from "@/modules/streams";

export const emailSchema = z
  .string()
  .trim()
  .min(1, "Email is required.")
  .max(254, "Email must be at most 254 characters.")
  .pipe(z.email("Enter a valid email address."));
export const personNameSchema = z
  .string()
  .trim()
  .min(1, "Name is required.")
  .max(200, "Name must be at most 200 characters.");

export const userPayloadSchemas = {
  UserCreated: z.object({ email: emailSchema, name: personNameSchema }),
  /** Only the fields that changed, with their new values. */
  UserUpdated: z
    .object({ email: emailSchema.optional(), name: personNameSchema.optional() })
    .refine((p) => p.email !== undefined || p.name !== undefined, "UserUpdated changes nothing"),
  UserDeleted: z.object({}),
  UserLoggedIn: z.object({
    ip: z.string().max(100).nullable(),
    userAgent: z.string().max(1000).nullable(),
  }),
  /**
   * Security changes (issue 13), never carrying a secret: the actor says who
   * did it. `reset` is true when the new password replaced one the user had.
   */
  UserPasswordSet: z.object({ reset: z.boolean() }),
  /** Console sessions ended at once: by an administrator, or because the password was reset. `count` ≥ 1. */
  UserSessionsEnded: z.object({
    reason: z.enum(["ended-by-admin", "password-reset"]),
    count: z.number().int().min(1),
  }),
  /**
   * A refused console sign-in of this (live) user, in general terms: a wrong
   * password, no password set yet, or a right password without any permission.
   * Never the password typed. Unknown emails are not recorded in the log.
   */
  UserLoginFailed: z.object({
    reason: z.enum(["wrong-password", "no-password", "no-access"]),
    ip: z.string().max(100).nullable(),
    userAgent: z.string().max(1000).nullable(),
  }),
  /** The user signed out of a console session. */
  UserLoggedOut: z.object({
    ip: z.string().max(100).nullable(),
    userAgent: z.string().max(1000).nullable(),
  }),
  /** `roleName` is the role's name at the time, so the timeline reads right after a rename. */
  RoleAssignedToUser: z.object({ roleId: z.uuid(), roleName: z.string().min(1) }),
  RoleUnassignedFromUser: z.object({
    roleId: z.uuid(),
    roleName: z.string().min(1),
    /** "role-deleted" when the role itself was deleted. */
    reason: z.enum(["unassigned", "role-deleted"]),
  }),
  /**
   * The person's personal data was erased (their key destroyed: lib/privacy). Who and when are
   * the envelope's actor and occurredAt; the reason is kept in clear, so it must name no one.
   */
  UserErased: z.object({
    reason: z.string().trim().min(1, "A reason is required.").max(500, "The reason must be at most 500 characters."),
  }),
} as const;

type Payloads = { [K in keyof typeof userPayloadSchemas]: z.infer<(typeof userPayloadSchemas)[K]> };

export type UserCreated = Event<"UserCreated", Payloads["UserCreated"]>;
export type UserUpdated = Event<"UserUpdated", Payloads["UserUpdated"]>;
export type UserDeleted = Event<"UserDeleted", Payloads["UserDeleted"]>;
export type UserLoggedIn = Event<"UserLoggedIn", Payloads["UserLoggedIn"]>;
export type UserPasswordSet = Event<"UserPasswordSet", Payloads["UserPasswordSet"]>;
export type UserSessionsEnded = Event<"UserSessionsEnded", Payloads["UserSessionsEnded"]>;
export type UserLoginFailed = Event<"UserLoginFailed", Payloads["UserLoginFailed"]>;
export type UserLoggedOut = Event<"UserLoggedOut", Payloads["UserLoggedOut"]>;
export type RoleAssignedToUser = Event<"RoleAssignedToUser", Payloads["RoleAssignedToUser"]>;
export type RoleUnassignedFromUser = Event<"RoleUnassignedFromUser", Payloads["RoleUnassignedFromUser"]>;
export type UserErased = Event<"UserErased", Payloads["UserErased"]>;

export type UserEvent =
  | UserCreated
  | UserUpdated
  | UserDeleted
  | UserLoggedIn
  | UserPasswordSet
  | UserSessionsEnded
  | UserLoginFailed
  | UserLoggedOut
  | RoleAssignedToUser
  | RoleUnassignedFromUser
  | UserErased;
export type UserEventType = UserEvent["type"];
export const userEventTypes = Object.keys(userPayloadSchemas) as UserEventType[];

const v1 = (payload: z.ZodType, personal: string[] = []): EventSpec => ({ schemaVersion: 1, payload, upcasters: {}, personal });

/** Every event type of the `users` stream: version, payload schema, upcasters, personal fields. */
export const userEvents = {
  UserCreated: v1(userPayloadSchemas.UserCreated, ["email", "name"]),
  UserUpdated: v1(userPayloadSchemas.UserUpdated, ["email", "name"]),
  UserDeleted: v1(userPayloadSchemas.UserDeleted),
  UserLoggedIn: v1(userPayloadSchemas.UserLoggedIn, ["ip", "userAgent"]),
  UserPasswordSet: v1(userPayloadSchemas.UserPasswordSet),
  UserSessionsEnded: v1(userPayloadSchemas.UserSessionsEnded),
  UserLoginFailed: v1(userPayloadSchemas.UserLoginFailed, ["ip", "userAgent"]),
  UserLoggedOut: v1(userPayloadSchemas.UserLoggedOut, ["ip", "userAgent"]),
  RoleAssignedToUser: v1(userPayloadSchemas.RoleAssignedToUser),
  RoleUnassignedFromUser: v1(userPayloadSchemas.RoleUnassignedFromUser),
  UserErased: { ...v1(userPayloadSchemas.UserErased), erasesPerson: true },
} satisfies Record<UserEventType, EventSpec>;

/** The serde (lib/events/codec.ts) over the user events alone: the timeline reads rows back through it. */
export const userSerde = createSerde<UserEvent>(eventRegistry(STREAM.users, userEvents));
