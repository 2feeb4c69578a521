/** GET /api/v1/openapi.json: the API's OpenAPI 3.1 document (any valid token), from the modules' route descriptions. */
import { apiRoute } from "@/lib/api/handler";
import { openApiDocument } from "@/lib/api/openapi";
import { app } from "@/modules";

const DESCRIPTION =
  "Users and roles, event-sourced: every command is recorded as an event in Kafka before it answers. " +
  "Authenticate with `Authorization: Bearer <token>` (create tokens in the console under API tokens).";

export const GET = apiRoute("users:read", async ({ request }) => ({
  status: 200,
  body: openApiDocument(
    request.nextUrl.origin,
    DESCRIPTION,
    app.modules.flatMap((m) => (m.api ? [m.api] : [])),
  ),
}));
