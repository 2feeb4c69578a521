/**
 * The OpenAPI 3.1 document of /api/v1, generated from the same zod schemas
 * the commands validate with (so the document cannot drift from the checks).
 * Each module describes its own routes (ApiDefinition, lib/module.ts) with the
 * helpers below; this file knows no route of its own.
 */
import { z } from "zod";
import type { ApiDefinition } from "@/lib/module";

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
export const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description: "A retry with the same key and body returns the first response and records nothing twice (kept 24 h).",
  schema: { type: "string", maxLength: 200 },
};
export const pathId = (name: string) => ({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } });
export const expectedVersionQuery = { name: "expectedVersion", in: "query", required: true, schema: { type: "integer", minimum: 0 } };
export const command = (summary: string, body: string | null, ok: "200" | "201", params: object[] = []) => ({
  summary,
  parameters: params,
  ...(body ? { requestBody: { required: true, ...json(body) } } : {}),
  responses: { [ok]: { description: "Recorded (or a no-op: changed=false)", ...json("CommandResult") }, ...commandErrors },
});
export const read = (summary: string, params: object[] = []) => ({
  summary,
  parameters: params,
  responses: { "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } }, ...errors },
});

/** `apis`: the modules' (in the composition root's order); `description` opens the document. */
export function openApiDocument(serverUrl: string, description: string, apis: readonly ApiDefinition[]) {
  return {
    openapi: "3.1.0",
    info: { title: "Admin console API", version: "1", description },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths: Object.assign({}, ...apis.map((a) => a.paths)) as Record<string, object>,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        ...Object.fromEntries(apis.flatMap((a) => Object.entries(a.schemas).map(([name, s]) => [name, schema(s)]))),
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
