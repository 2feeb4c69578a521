/**
 * The OpenAPI 3.1 document of /api/v1, generated from the same zod schemas
 * the commands validate with (so the document cannot drift from the checks).
 */
import { z } from "zod";
import { createRoleInput, updateRoleInput } from "@/modules/roles/domain/commands";
import { assignRoleInput, createUserInput, recordLoginInput, updateUserInput } from "@/modules/users/domain/commands";

const schema = (s: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};

const json = (ref: string) => ({ content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });
const errors = {
  "401": { description: "No valid API token", ...json("Error") },
  "403": { description: "The token's scope does not allow this", ...json("Error") },
};
const commandErrors = {
  ...errors,
  "404": { description: "No such user or role", ...json("Error") },
  "409": { description: "expectedVersion is stale: changed by someone else", ...json("Error") },
  "422": { description: "Invalid input (fieldErrors says which fields) or a business rule refused it", ...json("Error") },
  "503": { description: "The event store did not acknowledge the change: nothing was recorded", ...json("Error") },
};
const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "A retry with the same key and body returns the first response and records nothing twice (kept 24 h).",
  schema: { type: "string", maxLength: 200 },
};
const pathId = (name: string) => ({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } });
const expectedVersionQuery = { name: "expectedVersion", in: "query", required: true, schema: { type: "integer", minimum: 0 } };
const command = (summary: string, body: string | null, ok: "200" | "201", params: object[] = []) => ({
  summary,
  parameters: params,
  ...(body ? { requestBody: { required: true, ...json(body) } } : {}),
  responses: { [ok]: { description: "Recorded (or a no-op: changed=false)", ...json("CommandResult") }, ...commandErrors },
});
const read = (summary: string, params: object[] = []) => ({
  summary,
  parameters: params,
  responses: { "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } }, ...errors },
});

export function openApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Admin console API",
      version: "1",
      description:
        "Users and roles, event-sourced: every command is recorded as an event in Kafka before it answers. " +
        "Authenticate with `Authorization: Bearer <token>` (create tokens in the console under API tokens).",
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths: {
      "/api/v1/users": {
        get: read("Search users (case-insensitive prefix of email or name), filter, keyset pages", [
          { name: "q", in: "query", schema: { type: "string" } },
          { name: "role", in: "query", schema: { type: "string", format: "uuid" } },
          { name: "status", in: "query", schema: { enum: ["live", "deleted", "all"] } },
          { name: "sort", in: "query", schema: { enum: ["created", "name"] } },
          { name: "cursor", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200 } },
        ]),
        post: command("Create a user", "CreateUser", "201", [idempotencyKey]),
      },
      "/api/v1/users/{id}": {
        get: read("A user with their current roles", [pathId("id")]),
        patch: command("Change a user's email or name", "UpdateUser", "200", [pathId("id")]),
        delete: command("Delete a user", null, "200", [pathId("id"), expectedVersionQuery]),
      },
      "/api/v1/users/{id}/roles": {
        post: command("Assign a role to a user", "AssignRole", "200", [pathId("id"), idempotencyKey]),
      },
      "/api/v1/users/{id}/roles/{roleId}": {
        delete: command("Unassign a role from a user", null, "200", [pathId("id"), pathId("roleId")]),
      },
      "/api/v1/users/{id}/logins": {
        post: command("Record that the user signed in (for an auth service)", "RecordLogin", "201", [pathId("id"), idempotencyKey]),
      },
      "/api/v1/users/{id}/timeline": {
        get: read("One page of the user's timeline, newest first", [
          pathId("id"),
          { name: "type", in: "query", schema: { type: "string" } },
          { name: "before", in: "query", schema: { type: "integer" } },
          { name: "limit", in: "query", schema: { type: "integer" } },
        ]),
      },
      "/api/v1/roles": {
        get: read("Live roles with member counts"),
        post: command("Create a role", "CreateRole", "201", [idempotencyKey]),
      },
      "/api/v1/roles/{id}": {
        get: read("A role with its members", [pathId("id")]),
        patch: command("Change a role's name, description or permissions", "UpdateRole", "200", [pathId("id")]),
        delete: command("Delete a role (its members lose it first)", null, "200", [pathId("id"), expectedVersionQuery]),
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        CreateUser: schema(createUserInput),
        UpdateUser: schema(updateUserInput.omit({ userId: true })),
        AssignRole: schema(assignRoleInput.omit({ userId: true })),
        RecordLogin: schema(recordLoginInput.omit({ userId: true })),
        CreateRole: schema(createRoleInput),
        UpdateRole: schema(updateRoleInput.omit({ roleId: true })),
        CommandResult: {
          type: "object",
          required: ["id", "version", "changed", "events"],
          properties: {
            id: { type: "string", format: "uuid" },
            version: { type: "integer" },
            changed: { type: "boolean" },
            events: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  id: { type: "string" },
                  type: { type: "string" },
                  topic: { type: "string" },
                  partition: { type: "integer" },
                  offset: { type: "string" },
                },
              },
            },
          },
        },
        Error: {
          type: "object",
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                fieldErrors: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
              },
            },
          },
        },
      },
    },
  };
}
