/** The roles' routes under /api/v1 (app/api/v1/roles), for the OpenAPI document (lib/api/openapi.ts). */
import { command, expectedVersionQuery, idempotencyKey, pathId, read } from "@/lib/api/openapi";
import type { ApiDefinition } from "@/lib/module";
import { createRoleInput, updateRoleInput } from "./domain/commands";

export const rolesApi: ApiDefinition = {
  paths: {
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
  schemas: {
    CreateRole: createRoleInput,
    UpdateRole: updateRoleInput.omit({ roleId: true }),
  },
};
