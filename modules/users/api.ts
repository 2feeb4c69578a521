/** The users' routes under /api/v1 (app/api/v1/users), for the OpenAPI document (lib/api/openapi.ts). */
import { command, idempotencyKey, pathId, read, expectedVersionQuery } from "@/lib/api/openapi";
import type { ApiDefinition } from "@/lib/module";
import { assignRoleInput, changeRoleOfUsersInput, createUserInput, eraseUserInput, recordLoginInput, updateUserInput } from "./domain/commands";

export const usersApi: ApiDefinition = {
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
      get: read("The roles the user held at an instant, with each role's name then and now", [
        pathId("id"),
        { name: "at", in: "query", schema: { type: "string", format: "date-time" }, description: "ISO-8601 (no offset = UTC); default now" },
      ]),
      post: command("Assign a role to a user", "AssignRole", "200", [pathId("id"), idempotencyKey]),
    },
    "/api/v1/users/{id}/roles/{roleId}": {
      delete: command("Unassign a role from a user", null, "200", [pathId("id"), pathId("roleId")]),
    },
    "/api/v1/users/{id}/logins": {
      post: command("Record that the user signed in (for an auth service)", "RecordLogin", "201", [pathId("id"), idempotencyKey]),
    },
    "/api/v1/users/{id}/erasure": {
      post: command(
        "Erase the person's personal data for good (crypto-shredding; needs users:erase). The answer adds eventsInClear",
        "EraseUser",
        "200",
        [pathId("id"), idempotencyKey],
      ),
    },
    "/api/v1/users/{id}/timeline": {
      get: read("One page of the user's timeline, newest first", [
        pathId("id"),
        { name: "type", in: "query", schema: { type: "string" } },
        { name: "before", in: "query", schema: { type: "integer" } },
        { name: "limit", in: "query", schema: { type: "integer" } },
      ]),
    },
    "/api/v1/roles/{id}/members": {
      get: read("Access review: every user who held the role at some instant of [from, to], one entry per holding", [
        pathId("id"),
        { name: "from", in: "query", required: true, schema: { type: "string", format: "date-time" } },
        { name: "to", in: "query", required: true, schema: { type: "string", format: "date-time" } },
        { name: "cursor", in: "query", schema: { type: "string" } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } },
      ]),
      post: {
        ...command(
          "Assign the role to, or unassign it from, up to 10,000 users: in batches, each user decided on its own state. The answer lists each user's outcome (changed, unchanged, or failed with code and message) and the last event on each partition",
          "ChangeRoleOfUsers",
          "200",
          [pathId("id"), idempotencyKey],
        ),
        responses: {
          ...command("", null, "200").responses,
          "200": { description: "Each user's outcome", content: { "application/json": { schema: { type: "object" } } } },
        },
      },
    },
  },
  schemas: {
    CreateUser: createUserInput,
    UpdateUser: updateUserInput.omit({ userId: true }),
    AssignRole: assignRoleInput.omit({ userId: true }),
    RecordLogin: recordLoginInput.omit({ userId: true }),
    EraseUser: eraseUserInput.omit({ userId: true }),
    ChangeRoleOfUsers: changeRoleOfUsersInput.omit({ roleId: true }),
  },
};
