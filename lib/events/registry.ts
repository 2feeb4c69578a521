/**
 * Every event type this code reads and writes: its stream, its current
 * schemaVersion, its payload schema and its upcasters.
 */
import { userPayloadSchemas, type UserEvent } from "@/modules/users/domain/events";
import { rolePayloadSchemas, type RoleEvent } from "@/modules/roles/domain/events";
import type { EventRegistry } from "./upcast";

export type DomainEvent = UserEvent | RoleEvent;
export type DomainEventType = DomainEvent["type"];
export type StreamName = "users" | "roles";

const v1 = (stream: StreamName, payload: EventRegistry[string]["payload"]) => ({
  stream,
  schemaVersion: 1,
  payload,
  upcasters: {},
});

export const eventRegistry = {
  UserCreated: v1("users", userPayloadSchemas.UserCreated),
  UserUpdated: v1("users", userPayloadSchemas.UserUpdated),
  UserDeleted: v1("users", userPayloadSchemas.UserDeleted),
  UserLoggedIn: v1("users", userPayloadSchemas.UserLoggedIn),
  RoleAssignedToUser: v1("users", userPayloadSchemas.RoleAssignedToUser),
  RoleUnassignedFromUser: v1("users", userPayloadSchemas.RoleUnassignedFromUser),
  RoleCreated: v1("roles", rolePayloadSchemas.RoleCreated),
  RoleUpdated: v1("roles", rolePayloadSchemas.RoleUpdated),
  RoleDeleted: v1("roles", rolePayloadSchemas.RoleDeleted),
} satisfies EventRegistry & Record<DomainEventType, unknown>;

export const streamOf = (type: DomainEventType): StreamName => eventRegistry[type].stream;
export const currentSchemaVersion = (type: DomainEventType): number => eventRegistry[type].schemaVersion;
